import type { SessionEvent } from '../../../../contracts/events/session.js';
import { accept, type Decider, type Decision } from '../../../shared/domain/decider.js';

export type SessionState =
  | { status: 'none' }
  | {
      status: 'active';
      sessionId: string;
      sub: string;
      secretHash: string;
      authTime: number;
      acr: string;
      amr: string[];
      expiresAt: string;
    };

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

export type SessionCommand = StartSessionCommand;

export function decideSession(command: SessionCommand, state: SessionState): Decision<SessionEvent> {
  switch (command.type) {
    case 'start_session': {
      if (state.status !== 'none') throw new Error(`session ${command.sessionId} already exists`);
      const { type: _type, ...data } = command;
      return accept({ type: 'session.started', schemaVersion: 1, data });
    }
  }
}

export function evolveSession(_state: SessionState, event: SessionEvent): SessionState {
  switch (event.type) {
    case 'session.started':
      return { status: 'active', ...event.data };
    default: {
      const exhaustive: never = event.type;
      return exhaustive;
    }
  }
}

/** An active session is usable until its absolute expiry. */
export function isSessionUsable(state: SessionState, now: Date): state is Extract<SessionState, { status: 'active' }> {
  return state.status === 'active' && Date.parse(state.expiresAt) > now.getTime();
}

export const sessionDecider: Decider<SessionState, SessionCommand, SessionEvent> = {
  initialState: () => ({ status: 'none' }),
  evolve: evolveSession,
  decide: decideSession,
};
