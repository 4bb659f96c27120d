import type { FastifyReply, FastifyRequest } from 'fastify';
import '@fastify/cookie';

export const AUTHZ_COOKIE = 'idp_authz';
export const SESSION_COOKIE = 'idp_session';
/** A pending authorization request may wait this long for login and consent. */
export const AUTHZ_COOKIE_TTL_SECONDS = 600;

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const value = (request.cookies as Record<string, string | undefined> | undefined)?.[name];
  return value === '' ? undefined : value;
}

export function setAuthzCookie(reply: FastifyReply, value: string, secure: boolean): void {
  reply.setCookie(AUTHZ_COOKIE, value, {
    path: '/authorize',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    maxAge: AUTHZ_COOKIE_TTL_SECONDS,
  });
}

export function clearAuthzCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(AUTHZ_COOKIE, { path: '/authorize', httpOnly: true, sameSite: 'lax', secure });
}

export function setSessionCookie(reply: FastifyReply, value: string, expiresAt: string, secure: boolean): void {
  reply.setCookie(SESSION_COOKIE, value, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    expires: new Date(expiresAt),
  });
}
