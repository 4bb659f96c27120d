import type { FastifyReply, FastifyRequest } from 'fastify';
import '@fastify/cookie';

/** A pending authorization request may wait this long for login and consent. */
export const AUTHZ_COOKIE_TTL_SECONDS = 600;

/**
 * The gateway's two cookies. Over https both carry the RFC 6265bis `__Host-` prefix, which pins
 * a cookie to this host and path /, so a sibling subdomain can neither plant nor overwrite them.
 * Plain http (local development) cannot use the prefix. Besides, the pending request is bound to
 * the session it was answered for (authorization-flow.ts): a planted one completes nothing.
 */
export class GatewayCookies {
  readonly session: string;
  readonly authz: string;

  constructor(private readonly secure: boolean) {
    this.session = secure ? '__Host-idp_session' : 'idp_session';
    this.authz = secure ? '__Host-idp_authz' : 'idp_authz';
  }

  read(request: FastifyRequest, name: string): string | undefined {
    const value = (request.cookies as Record<string, string | undefined> | undefined)?.[name];
    return value === '' ? undefined : value;
  }

  setAuthz(reply: FastifyReply, value: string): void {
    reply.setCookie(this.authz, value, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      maxAge: AUTHZ_COOKIE_TTL_SECONDS,
    });
  }

  clearAuthz(reply: FastifyReply): void {
    reply.clearCookie(this.authz, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.secure });
  }

  setSession(reply: FastifyReply, value: string, expiresAt: string): void {
    reply.setCookie(this.session, value, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      expires: new Date(expiresAt),
    });
  }

  /** Logout: the browser forgets its session cookie. */
  clearSession(reply: FastifyReply): void {
    reply.clearCookie(this.session, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.secure });
  }
}
