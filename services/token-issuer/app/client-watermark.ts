import type { RequestContext } from '../../../contracts/events/metadata.js';
import { refusalOf } from './revocation-checks.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * Whether the client's watermark refuses a token of it issued at `iat` (epoch seconds): the
 * client-registry's write-through, the token-issuer's projection while current, else the client's
 * stream (revocation-checks.ts). To ask about the grant or the user as well, ask `refusalOf` once.
 */
export async function refusedByClientWatermark(
  deps: Pick<TokenIssuerDeps, 'store' | 'projections' | 'clientWatermarks' | 'projectionFreshness'>,
  ctx: RequestContext,
  clientId: string,
  iat: number,
): Promise<boolean> {
  return (await refusalOf(deps, ctx, { clientId, began: iat })) !== null;
}
