import type { SealedJson } from '../../../../contracts/events/define.js';
import type { UserEvent } from '../../../../contracts/events/user.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import type { z } from 'zod';
import { accept, reject, type Decider, type Decision } from '../../../shared/domain/decider.js';

export type UserState =
  | { status: 'unregistered' }
  | {
      status: 'registered';
      sub: string;
      usernameDigest: string;
      passwordHash: string;
      profile: z.infer<typeof SealedJson>;
      failedAttempts: number;
    };

export type UserCommand =
  | {
      type: 'register_user';
      sub: string;
      usernameDigest: string;
      passwordHash: string;
      profile: z.infer<typeof SealedJson>;
    }
  /** The password was checked by the caller (argon2 is slow and not pure); this records the outcome. */
  | { type: 'record_authentication'; passwordMatched: boolean; clientId: string | null };

export function decideUser(command: UserCommand, state: UserState): Decision<UserEvent> {
  switch (command.type) {
    case 'register_user':
      if (state.status === 'registered') return accept();
      return accept({
        type: 'user.registered',
        schemaVersion: 1,
        data: {
          sub: command.sub,
          usernameDigest: command.usernameDigest,
          passwordHash: command.passwordHash,
          profile: command.profile,
        },
      });
    case 'record_authentication':
      if (state.status !== 'registered') {
        // The same answer as a wrong password, so it does not tell which usernames exist.
        return reject(
          new OAuthError('access_denied', 'invalid username or password', { mayRedirect: false, detail: 'unknown user' }),
        );
      }
      if (!command.passwordMatched) {
        return reject(
          new OAuthError('access_denied', 'invalid username or password', { mayRedirect: false }),
          {
            type: 'authentication.failed',
            schemaVersion: 1,
            data: { sub: state.sub, reason: 'invalid_password', clientId: command.clientId },
          },
        );
      }
      return accept({
        type: 'authentication.succeeded',
        schemaVersion: 1,
        data: { sub: state.sub, method: 'pwd', clientId: command.clientId },
      });
  }
}

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'user.registered':
      return { status: 'registered', ...event.data, failedAttempts: 0 };
    case 'authentication.succeeded':
      return state.status === 'registered' ? { ...state, failedAttempts: 0 } : state;
    case 'authentication.failed':
      return state.status === 'registered' ? { ...state, failedAttempts: state.failedAttempts + 1 } : state;
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}

export const userDecider: Decider<UserState, UserCommand, UserEvent> = {
  initialState: () => ({ status: 'unregistered' }),
  evolve: evolveUser,
  decide: decideUser,
};
