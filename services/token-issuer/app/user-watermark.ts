import type { RequestContext } from '../../../contracts/events/metadata.js';
import { refusalOf } from './revocation-checks.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * Whether the user's watermark (disabled, forgotten, or enabled again after either) refuses a
 * token, code, lineage or session of the user that began at `iat` (epoch seconds): authn's
 * write-through, the token-issuer's projection while current, else the user's stream
 * (revocation-checks.ts). A client credentials token (`sub` is the client) has no user watermark.
 */
export async function refusedByUserWatermark(
  deps: Pick<TokenIssuerDeps, 'store' | 'projections' | 'userWatermarks' | 'projectionFreshness'>,
  ctx: RequestContext,
  subject: { sub: string; clientId: string },
  iat: number,
): Promise<boolean> {
  return (await refusalOf(deps, ctx, { user: subject, began: iat })) !== null;
}
