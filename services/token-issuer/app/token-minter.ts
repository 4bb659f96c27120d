import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { Keyring } from './keyring.js';

export interface TokenLifetimes {
  accessTokenSeconds: number;
  idTokenSeconds: number;
  codeSeconds: number;
}

/** Access tokens 1 h, ID tokens 1 h, codes 60 s (RFC 6749 §4.1.2: short-lived, at most 10 min). */
export const TOKEN_LIFETIMES: TokenLifetimes = { accessTokenSeconds: 3600, idTokenSeconds: 3600, codeSeconds: 60 };

/** Signs access tokens (RFC 9068 JWT, ES256) and ID tokens (OIDC Core §2, RS256). */
export class TokenMinter {
  constructor(
    private readonly keyring: Keyring,
    private readonly issuer: string,
    readonly lifetimes: TokenLifetimes,
  ) {}

  async accessToken(
    ctx: RequestContext,
    claims: { sub: string; clientId: string; scope: string; jti: string; authTime: number; iat: number },
  ): Promise<string> {
    const signer = await this.keyring.signer(ctx, 'ES256');
    return new SignJWT({ client_id: claims.clientId, scope: claims.scope, auth_time: claims.authTime })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setSubject(claims.sub)
      // RFC 9068 §3: the resource server; until resource indicators (RFC 8707) it is this issuer (userinfo).
      .setAudience(this.issuer)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.iat + this.lifetimes.accessTokenSeconds)
      .setJti(claims.jti)
      .sign(signer.key);
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
      sid: string;
      accessToken: string;
      iat: number;
    },
  ): Promise<string> {
    const signer = await this.keyring.signer(ctx, 'RS256');
    return new SignJWT({
      auth_time: claims.authTime,
      acr: claims.acr,
      amr: claims.amr,
      sid: claims.sid,
      azp: claims.clientId,
      at_hash: leftHalfHash(claims.accessToken),
      ...(claims.nonce !== undefined ? { nonce: claims.nonce } : {}),
    })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(claims.sub)
      .setAudience(claims.clientId)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.iat + this.lifetimes.idTokenSeconds)
      .sign(signer.key);
  }
}

/** OIDC Core §3.1.3.6 at_hash for RS256: base64url of the left half of SHA-256 of the token. */
function leftHalfHash(token: string): string {
  const digest = createHash('sha256').update(token, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
