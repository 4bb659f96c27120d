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
 * Whether the client's watermark refuses a token of it issued at `iat` (epoch seconds). The
 * client-registry's write-through (its namespace, `clientWatermarks`) makes a new watermark
 * count at the very next request; the token-issuer's own projection of it can be trusted to be
 * complete only while that projection is current. Either refusing refuses; with neither, and
 * the projection not current, the client's own stream decides (one short read).
 */
export async function refusedByClientWatermark(
  deps: Pick<TokenIssuerDeps, 'store' | 'projections' | 'clientWatermarks' | 'projectionFreshness'>,
  ctx: RequestContext,
  clientId: string,
  iat: number,
): Promise<boolean> {
  const key = clientWatermarkKey(ctx.tenant, clientId);
  const written = deps.clientWatermarks !== undefined && deps.clientWatermarks !== deps.projections ? deps.clientWatermarks : undefined;
  const [mark, checkpoint, writtenThrough] = await Promise.all([
    deps.projections.get<ClientWatermark>(key),
    deps.projections.checkpoint(TOKEN_ISSUER_CHECKPOINT),
    written?.get<ClientWatermark>(key),
  ]);
  if (watermarkRefuses(mark, iat) || watermarkRefuses(writtenThrough, iat)) return true;
  if (deps.projectionFreshness.current(checkpoint)) return false;
  const fromStream = await loadState(deps.store, streams.client(ctx.tenant, clientId), watermarkReader, ClientEvent);
  return watermarkRefuses(fromStream, iat);
}
