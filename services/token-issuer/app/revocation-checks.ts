import { ClientEvent } from '../../../contracts/events/client.js';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import { UserEvent } from '../../../contracts/events/user.js';
import { streams } from '../../../contracts/streams.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { loadState } from '../../shared/app/command-handler.js';
import { accept } from '../../shared/domain/decider.js';
import { clientWatermarkKey, foldClientWatermark, watermarkRefuses, type ClientWatermark } from '../../shared/projections/client-watermark.js';
import { foldUserWatermark, userWatermarkKey, userWatermarkRefuses, type UserWatermark } from '../../shared/projections/user-watermark.js';
import { isRevoked } from '../domain/grant/state.js';
import { TOKEN_ISSUER_CHECKPOINT, keys } from '../projections/token-issuer.projections.js';
import { loadGrant } from './grant-stream.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * Whether something revoked a token, a code, a lineage or a session since it began: its grant
 * (revoked), its client's watermark ("revoke every token of this client", deletion), its user's
 * watermark (disabled, forgotten, or enabled again after either).
 *
 * Three sources answer, as DESIGN §3 wants revocation visible to the next request:
 * - the watermarks written through by their owners at once (client-registry's namespace,
 *   `clientWatermarks`; authn's, `userWatermarks`);
 * - the token-issuer's own projection (grant revocations and both watermarks), complete only
 *   while it is current (`projectionFreshness`, against the checkpoint read with the lookups);
 * - else the log: the grant's, the client's and the user's own streams (one short read each).
 * Any source refusing refuses.
 *
 * Every projection lookup of one question is sent before any answer is awaited, and the checkpoint
 * is read once: one round of commands to each store rather than one round per check (issue 12:
 * an introspection made three rounds to Redis one after the other, five socket writes).
 */
export type RevocationQuestion = {
  /** The grant, when its revocation counts (not when the caller holds the grant's state already). */
  grantId?: string;
  /** The client, when its watermark counts. */
  clientId?: string;
  /** The user and the client it was for, when the user watermark counts (none when `sub` is the client). */
  user?: { sub: string; clientId: string };
  /** When it began: issued at, or the lineage's first issue (epoch seconds). */
  began: number;
};

export type Refusal = 'grant_revoked' | 'client_watermark' | 'user_watermark';

/** The first refusal of `question`, or null when nothing refuses. */
export async function refusalOf(
  deps: Pick<TokenIssuerDeps, 'store' | 'projections' | 'clientWatermarks' | 'userWatermarks' | 'projectionFreshness'>,
  ctx: RequestContext,
  question: RevocationQuestion,
): Promise<Refusal | null> {
  const { grantId, clientId, began } = question;
  // A client credentials token's `sub` is its client, not a user: no user watermark covers it.
  const sub = question.user && question.user.sub !== question.user.clientId ? question.user.sub : undefined;
  const clientKey = clientId === undefined ? undefined : clientWatermarkKey(ctx.tenant, clientId);
  const userKey = sub === undefined ? undefined : userWatermarkKey(ctx.tenant, sub);
  const clientWritten = writeThrough(deps.clientWatermarks, deps.projections);
  const userWritten = writeThrough(deps.userWatermarks, deps.projections);
  const [revoked, checkpoint, clientMark, clientMarkWritten, userMark, userMarkWritten] = await Promise.all([
    grantId === undefined ? undefined : deps.projections.get(keys.grantRevoked(ctx.tenant, grantId)),
    deps.projections.checkpoint(TOKEN_ISSUER_CHECKPOINT),
    clientKey === undefined ? undefined : deps.projections.get<ClientWatermark>(clientKey),
    clientKey === undefined ? undefined : clientWritten?.get<ClientWatermark>(clientKey),
    userKey === undefined ? undefined : deps.projections.get<UserWatermark>(userKey),
    userKey === undefined ? undefined : userWritten?.get<UserWatermark>(userKey),
  ]);
  if (revoked) return 'grant_revoked';
  if (watermarkRefuses(clientMark, began) || watermarkRefuses(clientMarkWritten, began)) return 'client_watermark';
  if (userWatermarkRefuses(userMark, began) || userWatermarkRefuses(userMarkWritten, began)) return 'user_watermark';
  if (deps.projectionFreshness.current(checkpoint)) return null;

  // The projection may miss a revocation not projected yet: the log decides, one stream at a time.
  if (grantId !== undefined && isRevoked(await loadGrant(deps, ctx, grantId))) return 'grant_revoked';
  if (clientId !== undefined) {
    const fromStream = await loadState(deps.store, streams.client(ctx.tenant, clientId), clientWatermarkReader, ClientEvent);
    if (watermarkRefuses(fromStream, began)) return 'client_watermark';
  }
  // Only a name a user's stream can have is read (a client's sub, or garbage, is no user).
  if (sub !== undefined && /^[A-Za-z0-9_-]{1,128}$/.test(sub)) {
    const fromStream = await loadState(deps.store, streams.user(ctx.tenant, sub), userWatermarkReader, UserEvent);
    if (userWatermarkRefuses(fromStream, began)) return 'user_watermark';
  }
  return null;
}

/** The owner's namespace, when it is another store than the token-issuer's own (distributed). */
function writeThrough(store: ProjectionStore | undefined, own: ProjectionStore): ProjectionStore | undefined {
  return store !== undefined && store !== own ? store : undefined;
}

/** Reads a client stream for its watermark only (the client-registry decides on that stream). */
const clientWatermarkReader = {
  initialState: (): ClientWatermark | undefined => undefined,
  evolve: foldClientWatermark,
  decide: () => accept<ClientEvent>(),
};

/** Reads a user's stream for its watermark only (authn decides on that stream). */
const userWatermarkReader = {
  initialState: (): UserWatermark | undefined => undefined,
  evolve: foldUserWatermark,
  decide: () => accept<UserEvent>(),
};
