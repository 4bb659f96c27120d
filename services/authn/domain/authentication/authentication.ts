import type { AuthenticationEvent } from '../../../../contracts/events/authentication.js';
import { accept, type Decider, type Decision } from '../../../shared/domain/decider.js';

/**
 * One successful login that changed nothing on the user's stream, as its own stream of one event
 * (`authentication-<tenant>-<id>`, a fresh id per login): the login is in the audit trail, and
 * no stream grows with the number of logins.
 */
export type AuthenticationState = { status: 'none' } | { status: 'recorded'; sub: string; clientId: string | null };

export interface RecordLoginCommand {
  type: 'record_login';
  /** A fresh id: the stream's name. */
  authenticationId: string;
  sub: string;
  clientId: string | null;
}

export type AuthenticationCommand = RecordLoginCommand;

export function decideAuthentication(command: AuthenticationCommand, state: AuthenticationState): Decision<AuthenticationEvent> {
  switch (command.type) {
    case 'record_login':
      // Ids are fresh per login: a second record under one is a bug, never a retry to absorb.
      if (state.status !== 'none') throw new Error(`authentication ${command.authenticationId} is already recorded`);
      return accept({
        type: 'authentication.succeeded',
        schemaVersion: 1,
        data: { sub: command.sub, method: 'pwd', clientId: command.clientId },
      });
  }
}

export function evolveAuthentication(_state: AuthenticationState, event: AuthenticationEvent): AuthenticationState {
  switch (event.type) {
    case 'authentication.succeeded':
      return { status: 'recorded', sub: event.data.sub, clientId: event.data.clientId };
    default: {
      const exhaustive: never = event.type;
      return exhaustive;
    }
  }
}

export const authenticationDecider: Decider<AuthenticationState, AuthenticationCommand, AuthenticationEvent> = {
  initialState: () => ({ status: 'none' }),
  evolve: evolveAuthentication,
  decide: decideAuthentication,
};
