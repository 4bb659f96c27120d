import type { RefreshTokenEvent } from '../../../../contracts/events/refresh-token.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { scopeTokens } from '../../../../contracts/scopes.js';
import { accept, reject, type Decider, type Decision } from '../../../shared/domain/decider.js';
import type { GrantWithTokens } from '../grant/state.js';

/**
 * One refresh token's epoch (contracts/events/refresh-token.ts): generation g of a grant's
 * refresh tokens is used at most once. Its stream is empty until then; the one use that wins the
 * race appends `refresh_token.rotated`, naming generation g+1. The grant itself (revocation,
 * subject, absolute lifetime) and the record that issued generation g come in the command, read
 * by the caller from their own short streams.
 */
export type RefreshTokenState =
  | { status: 'unused' }
  | {
      status: 'rotated';
      rotatedAt: string;
      successor: { generation: number; tokenHash: string; idleExpiresAt: string };
      /** How often the rotation was handed out again inside the grace window. */
      repeats: number;
    };

/**
 * The grace window gives the successor again once: enough for a response lost on the way, and a
 * bound on what a thief replaying the old token inside the window can get (and on the epoch's
 * length, so the next refresh still reads a short stream).
 */
export const MAX_GRACE_REPEATS = 1;

/** What a use of a generation in this state amounts to: a rotation, a repeat in the grace window, or reuse. */
export function useOutcome(
  state: RefreshTokenState,
  use: { now: Date; graceSeconds: number; successorUsed: boolean },
): 'rotate' | 'repeat' | 'reuse' {
  if (state.status === 'unused') return 'rotate';
  // No window at all: a use that computed its time before the rotation it lost to is reuse too.
  if (use.graceSeconds <= 0) return 'reuse';
  const graceEnds = Date.parse(state.rotatedAt) + use.graceSeconds * 1000;
  // The client's opt-in window for a response lost on the way (a flaky mobile network): the
  // same successor again, as long as that successor has not been used itself.
  if (use.now.getTime() < graceEnds && !use.successorUsed && state.repeats < MAX_GRACE_REPEATS) return 'repeat';
  return 'reuse';
}

export interface UseRefreshTokenCommand {
  type: 'use_refresh_token';
  grant: GrantWithTokens;
  generation: number;
  /** How generation `generation` was issued: its secret's hash and idle expiry. */
  issued: { tokenHash: string; idleExpiresAt: string };
  /** SHA-256 of the presented token's secret. */
  presentedHash: string;
  clientId: string;
  scope: string;
  now: Date;
  /** The client's reuse grace window in seconds (0: none). */
  graceSeconds: number;
  /** Whether generation g+1 has been used already (only looked at once g is rotated). */
  successorUsed: boolean;
  /** The tokens of this use, decided and signed by the caller before the append. */
  tokens: {
    accessTokenIdHash: string;
    accessTokenExpiresAt: string;
    idTokenIssued: boolean;
    successor: { tokenHash: string; idleExpiresAt: string };
  };
}

/**
 * A rotated refresh token came back outside the grace window: `invalid_grant` to the caller, who
 * then revokes the whole grant on the grant's own stream (RFC 9700 §4.14.2).
 */
export class RefreshTokenReused extends OAuthError {
  constructor(readonly generation: number) {
    super('invalid_grant', 'the refresh token is invalid, expired or revoked', { detail: `generation ${generation} reused; grant revoked` });
  }
}

const invalidGrant = (detail: string) => new OAuthError('invalid_grant', 'the refresh token is invalid, expired or revoked', { detail });

export function decideRefreshToken(command: UseRefreshTokenCommand, state: RefreshTokenState): Decision<RefreshTokenEvent> {
  const { grant, now } = command;
  // A wrong secret is a guess, not a use: refuse without a trace in the lineage.
  if (command.presentedHash !== command.issued.tokenHash) return reject(invalidGrant('refresh token secret does not match'));
  if (grant.revocation !== null) return reject(invalidGrant(`grant revoked (${grant.revocation.reason})`));
  // RFC 6749 §6: the refresh token is bound to the client it was issued to.
  if (grant.subject.clientId !== command.clientId) return reject(invalidGrant('refresh token issued to another client'));
  const absolute = grant.lineage.refreshToken?.absoluteExpiresAt;
  if (absolute === undefined || now.getTime() >= Date.parse(absolute)) return reject(invalidGrant('lineage past its absolute lifetime'));

  const issue = {
    grantId: grant.grantId,
    generation: command.generation,
    clientId: command.clientId,
    scope: command.scope,
    accessTokenIdHash: command.tokens.accessTokenIdHash,
    accessTokenExpiresAt: command.tokens.accessTokenExpiresAt,
    idTokenIssued: command.tokens.idTokenIssued,
  };
  switch (useOutcome(state, command)) {
    case 'repeat':
      return accept({ type: 'refresh_token.rotation_repeated', schemaVersion: 1, data: issue });
    case 'reuse':
      return reject(new RefreshTokenReused(command.generation));
    case 'rotate':
      break;
  }
  if (now.getTime() >= Date.parse(command.issued.idleExpiresAt)) return reject(invalidGrant('refresh token past its idle lifetime'));
  return accept({
    type: 'refresh_token.rotated',
    schemaVersion: 1,
    data: {
      ...issue,
      rotatedAt: now.toISOString(),
      successor: { generation: command.generation + 1, ...command.tokens.successor },
    },
  });
}

export function evolveRefreshToken(state: RefreshTokenState, event: RefreshTokenEvent): RefreshTokenState {
  switch (event.type) {
    case 'refresh_token.rotated':
      return { status: 'rotated', rotatedAt: event.data.rotatedAt, successor: event.data.successor, repeats: 0 };
    case 'refresh_token.rotation_repeated':
      return state.status === 'rotated' ? { ...state, repeats: state.repeats + 1 } : state;
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}

export const refreshTokenDecider: Decider<RefreshTokenState, UseRefreshTokenCommand, RefreshTokenEvent> = {
  initialState: () => ({ status: 'unused' }),
  evolve: evolveRefreshToken,
  decide: decideRefreshToken,
};

/**
 * RFC 6749 §6: the scope of a refreshed access token, the grant's or narrower, never wider; and
 * never beyond what the client is registered for now (an operator may have taken a scope away).
 */
export function refreshedScope(grantScope: string, clientScope: string, requested: string | undefined): string {
  const registered = new Set(clientScope.split(' ').filter(Boolean));
  const granted = grantScope.split(' ').filter((scope) => scope !== '' && registered.has(scope));
  if (requested === undefined) return granted.join(' ');
  const asked = scopeTokens(requested);
  if (asked.length === 0) throw new OAuthError('invalid_scope', 'scope is empty');
  if (asked.some((scope) => !granted.includes(scope))) throw new OAuthError('invalid_scope', 'the scope asked for was not granted');
  return asked.join(' ');
}
