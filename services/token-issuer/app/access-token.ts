import { errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { ReplyOf } from '../../../contracts/messages/define.js';
import type { ValidateAccessToken } from '../../../contracts/messages/token-issuer.js';
import { keys } from '../projections/token-issuer.projections.js';
import { splitGrantSecret } from './grant-stream.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * Checks an access token presented to a resource (userinfo): our signature, `typ: at+jwt`,
 * issuer, expiry (RFC 9068 §4), and that its grant was not revoked since.
 */
export async function validateAccessToken(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  token: string,
): Promise<ReplyOf<typeof ValidateAccessToken>> {
  let payload;
  try {
    ({ payload } = await jwtVerify(
      token,
      async (header: JWTHeaderParameters) => {
        const found = header.kid === undefined ? undefined : await deps.keyring.publicKey(ctx, header.kid);
        if (!found || found.alg !== header.alg) throw new errors.JWKSNoMatchingKey();
        return found.key;
      },
      { issuer: deps.issuer, audience: deps.issuer, typ: 'at+jwt', algorithms: ['ES256'], currentDate: deps.clock() },
    ));
  } catch (error) {
    if (error instanceof errors.JOSEError) return { active: false };
    throw error;
  }
  const parts = typeof payload.jti === 'string' ? splitGrantSecret(payload.jti) : null;
  if (!parts || typeof payload.sub !== 'string' || typeof payload.client_id !== 'string') return { active: false };
  if (await deps.projections.get(keys.grantRevoked(ctx.tenant, parts.grantId))) return { active: false };
  return {
    active: true,
    sub: payload.sub,
    clientId: payload.client_id,
    scope: typeof payload.scope === 'string' ? payload.scope : '',
    grantId: parts.grantId,
  };
}
