import { ClientEvent } from '../../../contracts/events/client.js';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import { streams } from '../../../contracts/streams.js';
import { loadState } from '../../shared/app/command-handler.js';
import { accept } from '../../shared/domain/decider.js';
import {
  clientWatermarkKey,
  foldClientWatermark,
  watermarkRefuses,
  type ClientWatermark,
} from '../../shared/projections/client-watermark.js';
import { TOKEN_ISSUER_CHECKPOINT } from '../projections/token-issuer.projections.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/** Reads a client stream for its watermark only (the client-registry decides on that stream). */
const watermarkReader = {
  initialState: (): ClientWatermark | undefined => undefined,
  evolve: foldClientWatermark,
  decide: () => accept<ClientEvent>(),
};

/**
 * Whether the client's watermark refuses a token of it issued at `iat` (epoch seconds). Like a
 * grant's revocation, a missing watermark is only worth something while the projection is
 * complete; otherwise the client's own stream decides (one short read).
 */
export async function refusedByClientWatermark(
  deps: Pick<TokenIssuerDeps, 'store' | 'projections' | 'projectionFreshness'>,
  ctx: RequestContext,
  clientId: string,
  iat: number,
): Promise<boolean> {
  const [mark, checkpoint] = await Promise.all([
    deps.projections.get<ClientWatermark>(clientWatermarkKey(ctx.tenant, clientId)),
    deps.projections.checkpoint(TOKEN_ISSUER_CHECKPOINT),
  ]);
  if (watermarkRefuses(mark, iat)) return true;
  if (deps.projectionFreshness.current(checkpoint)) return false;
  const fromStream = await loadState(deps.store, streams.client(ctx.tenant, clientId), watermarkReader, ClientEvent);
  return watermarkRefuses(fromStream, iat);
}
