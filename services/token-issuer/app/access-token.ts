import { errors, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { ReplyOf } from '../../../contracts/messages/define.js';
import type { ValidateAccessToken } from '../../../contracts/messages/token-issuer.js';
import { codeSubject } from '../domain/grant/state.js';
import { loadGrant, splitGrantSecret } from './grant-stream.js';
import { refusalOf } from './revocation-checks.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * Whether the grant is revoked now: the projection while it is current, else the grant's own
 * stream (revocation-checks.ts; revocation is the one lookup that must never fail open).
 */
export async function grantRevokedNow(deps: TokenIssuerDeps, ctx: RequestContext, grantId: string): Promise<boolean> {
  return (await refusalOf(deps, ctx, { grantId, began: 0 })) !== null;
}

/** What a valid, unrevoked access token of ours says (RFC 9068 §2.2). */
export interface VerifiedAccessToken {
  sub: string;
  clientId: string;
  scope: string;
  grantId: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
}

/**
 * Checks an access token: our signature, `typ: at+jwt`, issuer, expiry (RFC 9068 §4), and that
 * its grant was not revoked since, nor its client's tokens (the client watermark), nor its user's (the user watermark: disabled, forgotten). Undefined for anything else, garbage included.
 */
export async function verifyAccessToken(deps: TokenIssuerDeps, ctx: RequestContext, token: string): Promise<VerifiedAccessToken | undefined> {
  const payload = await verifiedPayload(deps, ctx, token);
  if (!payload) return undefined;
  const { jti, sub, client_id: clientId, aud, exp, iat } = payload;
  const parts = typeof jti === 'string' ? splitGrantSecret(jti) : null;
  if (!parts || typeof sub !== 'string' || typeof clientId !== 'string' || aud === undefined) return undefined;
  if (typeof exp !== 'number' || typeof iat !== 'number') return undefined;
  // The grant, the client's watermark and the user's, asked at once.
  if (await refusalOf(deps, ctx, { grantId: parts.grantId, clientId, user: { sub, clientId }, began: iat })) return undefined;
  const scope = typeof payload.scope === 'string' ? payload.scope : '';
  return { sub, clientId, scope, grantId: parts.grantId, aud, exp, iat, jti: jti as string };
}

/**
 * The payload of a token that verifies now: signature by a key still in the keyring, `typ`,
 * issuer, expiry. The signature is checked once per token text (verified-token-cache.ts); the
 * key and the expiry every time.
 */
async function verifiedPayload(deps: TokenIssuerDeps, ctx: RequestContext, token: string): Promise<JWTPayload | undefined> {
  const now = deps.clock();
  const cached = deps.verifiedTokens?.get(token, Math.floor(now.getTime() / 1000));
  if (cached) return (await deps.keyring.publicKey(ctx, cached.kid)) ? (cached.payload as JWTPayload) : undefined;
  let kid = '';
  let payload;
  try {
    ({ payload } = await jwtVerify(
      token,
      async (header: JWTHeaderParameters) => {
        const found = header.kid === undefined ? undefined : await deps.keyring.publicKey(ctx, header.kid);
        if (!found || found.alg !== header.alg) throw new errors.JWKSNoMatchingKey();
        kid = header.kid!;
        return found.key;
      },
      { issuer: deps.issuer, typ: 'at+jwt', algorithms: ['ES256'], currentDate: now },
    ));
  } catch (error) {
    if (error instanceof errors.JOSEError) return undefined;
    throw error;
  }
  if (typeof payload.exp === 'number') deps.verifiedTokens?.set(token, { kid, payload, exp: payload.exp });
  return payload;
}

/** An access token presented to userinfo, whose audience is this issuer (OIDC Core §5.3). */
export async function validateAccessToken(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  token: string,
): Promise<ReplyOf<typeof ValidateAccessToken>> {
  const verified = await verifyAccessToken(deps, ctx, token);
  const audience = verified === undefined ? [] : Array.isArray(verified.aud) ? verified.aud : [verified.aud];
  if (!verified || !audience.includes(deps.issuer)) return { active: false };
  const reply = { active: true as const, sub: verified.sub, clientId: verified.clientId, scope: verified.scope, grantId: verified.grantId };
  if (!verified.scope.split(' ').includes('openid')) return reply;
  // OIDC Core §5.5: userinfo honours the grant's `claims.userinfo` request; one short stream read.
  const grant = await loadGrant(deps, ctx, verified.grantId);
  const subject = grant.status === 'none' ? undefined : grant.status === 'code_issued' ? codeSubject(grant.code) : grant.subject;
  return {
    ...reply,
    ...(subject?.claims?.userinfo !== undefined ? { userinfoClaims: subject.claims.userinfo } : {}),
    ...(subject?.claimsLocales !== undefined ? { claimsLocales: subject.claimsLocales } : {}),
  };
}
