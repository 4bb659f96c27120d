import type { FastifyReply, FastifyRequest } from 'fastify';
import '@fastify/cookie';

/** A pending authorization request may wait this long for login and consent. */
export const AUTHZ_COOKIE_TTL_SECONDS = 600;

/**
 * The gateway's two cookies. Over https they carry the RFC 6265bis prefixes, so a sibling
 * subdomain cannot plant or overwrite them: `__Host-` pins the session cookie to this host and
 * path /, `__Secure-` marks the pending request's cookie (its path is /authorize, which `__Host-`
 * does not allow). Plain http (local development) cannot use the prefixes.
 */
export class GatewayCookies {
  readonly session: string;
  readonly authz: string;

  constructor(private readonly secure: boolean) {
    this.session = secure ? '__Host-idp_session' : 'idp_session';
    this.authz = secure ? '__Secure-idp_authz' : 'idp_authz';
  }

  read(request: FastifyRequest, name: string): string | undefined {
    const value = (request.cookies as Record<string, string | undefined> | undefined)?.[name];
    return value === '' ? undefined : value;
  }

  setAuthz(reply: FastifyReply, value: string): void {
    reply.setCookie(this.authz, value, {
      path: '/authorize',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      maxAge: AUTHZ_COOKIE_TTL_SECONDS,
    });
  }

  clearAuthz(reply: FastifyReply): void {
    reply.clearCookie(this.authz, { path: '/authorize', httpOnly: true, sameSite: 'lax', secure: this.secure });
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
