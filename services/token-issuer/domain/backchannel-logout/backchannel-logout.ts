import type { BackchannelLogoutEvent } from '../../../../contracts/events/backchannel-logout.js';
import { accept, type Decider, type Decision } from '../../../shared/domain/decider.js';

/**
 * One back-channel logout delivery (Back-Channel Logout 1.0 §2.5): to one client, for one ended
 * session. Attempts are claimed before they are made, so that of several senders (replicas, a
 * restarted process) one POSTs at a time; a claim whose holder went silent expires, and that
 * attempt counts as made.
 */
export type BackchannelLogoutState =
  | {
      status: 'pending';
      /** Attempts started so far. */
      attempts: number;
      /** null: due now. */
      nextAttemptAt: string | null;
      inFlight: { attempt: number; claimExpiresAt: string } | null;
    }
  | { status: 'delivered'; attempts: number }
  | { status: 'abandoned'; attempts: number };

interface DeliveryId {
  sessionId: string;
  clientId: string;
}

/** Start the next attempt if one is due and nobody holds one; give up after `maxAttempts`. */
export interface ClaimAttemptCommand extends DeliveryId {
  type: 'claim_attempt';
  now: string;
  uri: string;
  claimExpiresAt: string;
  maxAttempts: number;
}

/** What the attempt we hold came to. A stale outcome (another sender took over) records nothing. */
export interface RecordOutcomeCommand extends DeliveryId {
  type: 'record_outcome';
  attempt: number;
  outcome: { delivered: true; status: number } | { delivered: false; status: number | null; error: string | null };
  /** When a further attempt would be due. */
  nextAttemptAt: string;
  maxAttempts: number;
}

/** The client is gone, or no longer has a back-channel logout URI: nothing to deliver to. */
export interface AbandonCommand extends DeliveryId {
  type: 'abandon';
  reason: 'client_gone' | 'no_backchannel_logout_uri';
}

export type BackchannelLogoutCommand = ClaimAttemptCommand | RecordOutcomeCommand | AbandonCommand;

const at = (iso: string) => Date.parse(iso);

export function decideBackchannelLogout(command: BackchannelLogoutCommand, state: BackchannelLogoutState): Decision<BackchannelLogoutEvent> {
  if (state.status !== 'pending') return accept();
  const id = { sessionId: command.sessionId, clientId: command.clientId };
  switch (command.type) {
    case 'claim_attempt': {
      const now = at(command.now);
      // Someone holds an attempt that has not timed out: theirs to finish.
      if (state.inFlight && at(state.inFlight.claimExpiresAt) > now) return accept();
      // A silent holder's attempt counts; so does a failed one: the next is due at its time.
      if (!state.inFlight && state.nextAttemptAt !== null && at(state.nextAttemptAt) > now) return accept();
      if (state.attempts >= command.maxAttempts) {
        return accept({ type: 'backchannel_logout.abandoned', schemaVersion: 1, data: { ...id, attempts: state.attempts, reason: 'attempts_exhausted' } });
      }
      return accept({
        type: 'backchannel_logout.attempt_started',
        schemaVersion: 1,
        data: { ...id, attempt: state.attempts + 1, uri: command.uri, claimExpiresAt: command.claimExpiresAt },
      });
    }
    case 'record_outcome': {
      if (state.inFlight?.attempt !== command.attempt) return accept();
      if (command.outcome.delivered) {
        return accept({ type: 'backchannel_logout.delivered', schemaVersion: 1, data: { ...id, attempt: command.attempt, status: command.outcome.status } });
      }
      const last = command.attempt >= command.maxAttempts;
      const failed: BackchannelLogoutEvent = {
        type: 'backchannel_logout.failed',
        schemaVersion: 1,
        data: { ...id, attempt: command.attempt, status: command.outcome.status, error: command.outcome.error, nextAttemptAt: last ? null : command.nextAttemptAt },
      };
      return last
        ? accept<BackchannelLogoutEvent>(failed, { type: 'backchannel_logout.abandoned', schemaVersion: 1, data: { ...id, attempts: command.attempt, reason: 'attempts_exhausted' } })
        : accept(failed);
    }
    case 'abandon':
      return accept({ type: 'backchannel_logout.abandoned', schemaVersion: 1, data: { ...id, attempts: state.attempts, reason: command.reason } });
  }
}

export function evolveBackchannelLogout(state: BackchannelLogoutState, event: BackchannelLogoutEvent): BackchannelLogoutState {
  switch (event.type) {
    case 'backchannel_logout.attempt_started':
      return state.status === 'pending'
        ? { ...state, attempts: event.data.attempt, inFlight: { attempt: event.data.attempt, claimExpiresAt: event.data.claimExpiresAt } }
        : state;
    case 'backchannel_logout.failed':
      return state.status === 'pending' ? { ...state, inFlight: null, nextAttemptAt: event.data.nextAttemptAt } : state;
    case 'backchannel_logout.delivered':
      return { status: 'delivered', attempts: event.data.attempt };
    case 'backchannel_logout.abandoned':
      return { status: 'abandoned', attempts: event.data.attempts };
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}

export const backchannelLogoutDecider: Decider<BackchannelLogoutState, BackchannelLogoutCommand, BackchannelLogoutEvent> = {
  initialState: () => ({ status: 'pending', attempts: 0, nextAttemptAt: null, inFlight: null }),
  evolve: evolveBackchannelLogout,
  decide: decideBackchannelLogout,
};
