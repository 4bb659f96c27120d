import type { SessionEndReason, SessionEvent } from '../../../../contracts/events/session.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { accept, reject, type Decider, type Decision } from '../../../shared/domain/decider.js';

interface SessionFacts {
  sessionId: string;
  sub: string;
  secretHash: string;
  authTime: number;
  acr: string;
  amr: string[];
  expiresAt: string;
}

export type SessionState =
  | { status: 'none' }
  | ({ status: 'active' } & SessionFacts)
  /** Logged out: it never authenticates anyone again. */
  | ({ status: 'ended'; reason: SessionEndReason } & SessionFacts);

export interface StartSessionCommand {
  type: 'start_session';
  sessionId: string;
  sub: string;
  secretHash: string;
  authTime: number;
  acr: string;
  amr: string[];
  expiresAt: string;
}

/**
 * Ends the session whose cookie was presented: `presentedSecretHash` is the SHA-256 of the
 * cookie's secret half, so only the holder of the cookie (the browser, through the gateway)
 * can end it.
 */
export interface EndSessionCommand {
  type: 'end_session';
  sessionId: string;
  presentedSecretHash: string;
  reason: SessionEndReason;
  clientId: string | null;
}

export type SessionCommand = StartSessionCommand | EndSessionCommand;

const notYours = () =>
  new OAuthError('invalid_request', 'no such session', { mayRedirect: false, detail: 'session unknown or cookie secret does not match' });

export function decideSession(command: SessionCommand, state: SessionState): Decision<SessionEvent> {
  switch (command.type) {
    case 'start_session': {
      if (state.status !== 'none') throw new Error(`session ${command.sessionId} already exists`);
      const { type: _type, ...data } = command;
      return accept({ type: 'session.started', schemaVersion: 1, data });
    }
    case 'end_session': {
      if (state.status === 'none' || !sameHash(state.secretHash, command.presentedSecretHash)) return reject(notYours());
      // Logging out twice (two tabs, a double submit) ends it once.
      if (state.status === 'ended') return accept();
      return accept({
        type: 'session.ended',
        schemaVersion: 1,
        data: { sessionId: state.sessionId, sub: state.sub, reason: command.reason, clientId: command.clientId },
      });
    }
  }
}

export function evolveSession(state: SessionState, event: SessionEvent): SessionState {
  switch (event.type) {
    case 'session.started':
      return { status: 'active', ...event.data };
    case 'session.ended':
      return state.status === 'active' ? { ...state, status: 'ended', reason: event.data.reason } : state;
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}

/** An active session is usable until its absolute expiry, and not after it ended. */
export function isSessionUsable(state: SessionState, now: Date): state is Extract<SessionState, { status: 'active' }> {
  return state.status === 'active' && Date.parse(state.expiresAt) > now.getTime();
}

/** Compares two hex digests in time independent of where they differ. */
function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

export const sessionDecider: Decider<SessionState, SessionCommand, SessionEvent> = {
  initialState: () => ({ status: 'none' }),
  evolve: evolveSession,
  decide: decideSession,
};
