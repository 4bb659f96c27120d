import type { RequestContext } from '../../../contracts/events/metadata.js';
import { UserEvent } from '../../../contracts/events/user.js';
import { streams } from '../../../contracts/streams.js';
import { loadState } from '../../shared/app/command-handler.js';
import { accept } from '../../shared/domain/decider.js';
import { foldUserWatermark, userWatermarkKey, userWatermarkRefuses, type UserWatermark } from '../../shared/projections/user-watermark.js';
import { TOKEN_ISSUER_CHECKPOINT } from '../projections/token-issuer.projections.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/** Reads a user's stream for its watermark only (authn decides on that stream). */
const watermarkReader = {
  initialState: (): UserWatermark | undefined => undefined,
  evolve: foldUserWatermark,
  decide: () => accept<UserEvent>(),
};

/**
 * Whether the user's watermark (disabled, forgotten, or enabled again after either) refuses a
 * token, code, lineage or session of the user that began at `iat` (epoch seconds). The same
 * three sources as the client watermark (client-watermark.ts): authn's write-through (its
 * namespace, `userWatermarks`) counts at the very next request, the token-issuer's own projection
 * while it is current, else the user's own stream decides (one short read).
 */
export async function refusedByUserWatermark(
  deps: Pick<TokenIssuerDeps, 'store' | 'projections' | 'userWatermarks' | 'projectionFreshness'>,
  ctx: RequestContext,
  subject: { sub: string; clientId: string },
  iat: number,
): Promise<boolean> {
  const { sub } = subject;
  // A client credentials token's `sub` is its client, not a user: no user watermark covers it.
  if (sub === subject.clientId) return false;
  const key = userWatermarkKey(ctx.tenant, sub);
  const written = deps.userWatermarks !== undefined && deps.userWatermarks !== deps.projections ? deps.userWatermarks : undefined;
  const [mark, checkpoint, writtenThrough] = await Promise.all([
    deps.projections.get<UserWatermark>(key),
    deps.projections.checkpoint(TOKEN_ISSUER_CHECKPOINT),
    written?.get<UserWatermark>(key),
  ]);
  if (userWatermarkRefuses(mark, iat) || userWatermarkRefuses(writtenThrough, iat)) return true;
  if (deps.projectionFreshness.current(checkpoint)) return false;
  // Only a name a user's stream can have is read (a client's sub, or garbage, is no user).
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(sub)) return false;
  const fromStream = await loadState(deps.store, streams.user(ctx.tenant, sub), watermarkReader, UserEvent);
  return userWatermarkRefuses(fromStream, iat);
}
