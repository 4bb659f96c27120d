import { hash } from 'node:crypto';
import { SignJWT } from 'jose';
import { signCompactEs256 } from './es256-jws.js';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { Keyring } from './keyring.js';

export interface TokenLifetimes {
  accessTokenSeconds: number;
  idTokenSeconds: number;
  codeSeconds: number;
  /** A refresh token unused this long expires (each rotation starts it again). */
  refreshTokenIdleSeconds: number;
  /** A grant's refresh tokens end this long after the grant, however often rotated. */
  refreshTokenAbsoluteSeconds: number;
}

/**
 * Access tokens 1 h, ID tokens 1 h, codes 60 s (RFC 6749 §4.1.2: short-lived, at most 10 min),
 * refresh tokens 14 days unused and 30 days in all (RFC 9700 §4.14.2: bounded lifetimes).
 */
export const TOKEN_LIFETIMES: TokenLifetimes = {
  accessTokenSeconds: 3600,
  idTokenSeconds: 3600,
  codeSeconds: 60,
  refreshTokenIdleSeconds: 14 * 24 * 3600,
  refreshTokenAbsoluteSeconds: 30 * 24 * 3600,
};

/** Signs access tokens (RFC 9068 JWT, ES256) and ID tokens (OIDC Core §2, RS256, or ES256 where the client registered it). */
export class TokenMinter {
  constructor(
    private readonly keyring: Keyring,
    private readonly issuer: string,
    readonly lifetimes: TokenLifetimes,
  ) {}

  async accessToken(
    ctx: RequestContext,
    claims: {
      sub: string;
      clientId: string;
      scope: string;
      jti: string;
      /** Absent for client credentials: no user authenticated. */
      authTime?: number | undefined;
      iat: number;
      /** RFC 8707 resources; empty: this issuer (its userinfo endpoint). */
      audience?: string[] | undefined;
    },
  ): Promise<string> {
    const signer = await this.keyring.signer(ctx, 'ES256');
    const audience = claims.audience?.length ? claims.audience : [this.issuer];
    // Signed in place (es256-jws.ts): the hot path of every grant.
    return signCompactEs256(
      { alg: signer.alg, kid: signer.kid, typ: 'at+jwt' },
      {
        client_id: claims.clientId,
        scope: claims.scope,
        ...(claims.authTime !== undefined ? { auth_time: claims.authTime } : {}),
        iss: this.issuer,
        sub: claims.sub,
        // RFC 9068 §3: the resource servers the token is for (RFC 8707), else this issuer.
        aud: audience.length === 1 ? audience[0]! : audience,
        iat: claims.iat,
        exp: claims.iat + this.lifetimes.accessTokenSeconds,
        jti: claims.jti,
      },
      signer.key,
    );
  }

  async idToken(
    ctx: RequestContext,
    claims: {
      sub: string;
      clientId: string;
      nonce: string | undefined;
      authTime: number;
      acr: string;
      amr: string[];
      /** The session the user logged in with; absent for the password grant (no browser session). */
      sid?: string | undefined;
      /** The access token issued with it, if any: `at_hash` (OIDC Core §3.1.3.6, §3.2.2.10). */
      accessToken?: string | undefined;
      /** The code issued with it at the authorization endpoint: `c_hash` (OIDC Core §3.3.2.11). */
      code?: string | undefined;
      /** User claims released into the ID token (OIDC Core §5.4, §5.5); never the protocol claims. */
      userClaims?: Record<string, unknown> | undefined;
      iat: number;
      /** The client's `id_token_signed_response_alg`; RS256 unless it registered ES256. */
      alg?: string | undefined;
    },
  ): Promise<string> {
    const signer = await this.keyring.signer(ctx, claims.alg === 'ES256' ? 'ES256' : 'RS256');
    const payload = {
      ...withoutProtocolClaims(claims.userClaims),
      auth_time: claims.authTime,
      acr: claims.acr,
      amr: claims.amr,
      ...(claims.sid !== undefined ? { sid: claims.sid } : {}),
      azp: claims.clientId,
      ...(claims.accessToken !== undefined ? { at_hash: leftHalfHash(claims.accessToken) } : {}),
      ...(claims.code !== undefined ? { c_hash: leftHalfHash(claims.code) } : {}),
      ...(claims.nonce !== undefined ? { nonce: claims.nonce } : {}),
    };
    const header = { alg: signer.alg, kid: signer.kid, typ: 'JWT' };
    const registered = { iss: this.issuer, sub: claims.sub, aud: claims.clientId, iat: claims.iat, exp: claims.iat + this.lifetimes.idTokenSeconds };
    // ES256 in place like the access token; RS256 (a millisecond or two of RSA) stays off the event loop, with jose.
    if (signer.alg === 'ES256') return signCompactEs256(header, { ...payload, ...registered }, signer.key);
    return new SignJWT(payload)
      .setProtectedHeader(header)
      .setIssuer(registered.iss)
      .setSubject(registered.sub)
      .setAudience(registered.aud)
      .setIssuedAt(registered.iat)
      .setExpirationTime(registered.exp)
      .sign(signer.key);
  }
}

/** The claims an ID token sets itself: user claims never override them. */
const PROTOCOL_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'auth_time', 'acr', 'amr', 'sid', 'azp', 'nonce', 'at_hash', 'c_hash', 's_hash', 'cnf']);

function withoutProtocolClaims(claims: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!claims) return {};
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !PROTOCOL_CLAIMS.has(name)));
}

/** OIDC Core §3.1.3.6 at_hash and §3.3.2.11 c_hash for RS256 and ES256 (both SHA-256): base64url of the left half of SHA-256 of the token. */
function leftHalfHash(token: string): string {
  const digest = hash('sha256', token, 'buffer');
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
