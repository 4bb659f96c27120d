import { GrantEvent } from '../../../contracts/events/grant.js';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import { streams } from '../../../contracts/streams.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { RefreshTokenEvent } from '../../../contracts/events/refresh-token.js';
import { handleCommand, loadState } from '../../shared/app/command-handler.js';
import { refreshTokenDecider, type RefreshTokenState, type UseRefreshTokenCommand } from '../domain/refresh-token/refresh-token.js';
import type { GrantCommand } from '../domain/grant/decide.js';
import { grantDecider } from '../domain/grant/decider.js';
import type { GrantState } from '../domain/grant/state.js';
import { TOKEN_ISSUER_CHECKPOINT, tokenIssuerProjections } from '../projections/token-issuer.projections.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Codes and access-token ids are `<grant id>.<secret>` (DESIGN §3); refresh tokens add their generation (refresh-tokens.ts). */
export function splitGrantSecret(value: string): { grantId: string; secret: string } | null {
  const dot = value.indexOf('.');
  if (dot < 0) return null;
  const grantId = value.slice(0, dot);
  const secret = value.slice(dot + 1);
  if (!UUID.test(grantId) || secret.length < 32) return null;
  return { grantId, secret };
}

/** One decision on one grant stream, with the revocation projection written through. */
export function decideOnGrant(
  deps: { store: EventStore; projections: ProjectionStore; clock: () => Date },
  ctx: RequestContext,
  grantId: string,
  command: GrantCommand | ((state: GrantState) => Promise<GrantCommand>),
  /** `newStream`: the grant id was made for this command (handleCommand's `expectNewStream`). */
  options: { newStream?: boolean } = {},
) {
  return handleCommand(
    {
      store: deps.store,
      service: 'token-issuer',
      projections: { store: deps.projections, project: tokenIssuerProjections, checkpoint: TOKEN_ISSUER_CHECKPOINT },
      clock: deps.clock,
    },
    { streamName: streams.grant(ctx.tenant, grantId), decider: grantDecider, schema: GrantEvent, command, ctx, expectNewStream: options.newStream === true },
  );
}

/** A grant's state from its own stream (a short one: rotations live on their epoch streams). */
export function loadGrant(deps: { store: EventStore }, ctx: RequestContext, grantId: string): Promise<GrantState> {
  return loadState(deps.store, streams.grant(ctx.tenant, grantId), grantDecider, GrantEvent);
}

/** The state of one refresh token's epoch stream. */
export function loadRefreshEpoch(deps: { store: EventStore }, ctx: RequestContext, grantId: string, generation: number) {
  return loadState(deps.store, streams.refreshToken(ctx.tenant, grantId, generation), refreshTokenDecider, RefreshTokenEvent);
}

/** One decision on one refresh token's epoch stream: the race between two uses of the token. */
export function decideOnRefreshEpoch(
  deps: { store: EventStore; clock: () => Date },
  ctx: RequestContext,
  grantId: string,
  generation: number,
  command: (state: RefreshTokenState) => Promise<UseRefreshTokenCommand>,
) {
  return handleCommand(
    { store: deps.store, service: 'token-issuer', clock: deps.clock },
    {
      streamName: streams.refreshToken(ctx.tenant, grantId, generation),
      decider: refreshTokenDecider,
      schema: RefreshTokenEvent,
      command,
      ctx,
    },
  );
}
