import type { UsernameEvent } from '../../../../contracts/events/username.js';
import { accept, type Decider, type Decision } from '../../../shared/domain/decider.js';

export interface UsernameState {
  /** The subject that holds the name, once claimed. */
  claimedBy?: string;
}

export interface ClaimUsernameCommand {
  type: 'claim_username';
  usernameDigest: string;
  /** The subject that would hold the name if it is free. */
  sub: string;
}

export type UsernameCommand = ClaimUsernameCommand;

/** First claim wins; a later claim writes nothing and the caller reads who holds the name. */
export function decideUsername(command: UsernameCommand, state: UsernameState): Decision<UsernameEvent> {
  switch (command.type) {
    case 'claim_username':
      if (state.claimedBy !== undefined) return accept();
      return accept({
        type: 'username.claimed',
        schemaVersion: 1,
        data: { usernameDigest: command.usernameDigest, sub: command.sub },
      });
  }
}

export function evolveUsername(state: UsernameState, event: UsernameEvent): UsernameState {
  switch (event.type) {
    case 'username.claimed':
      return state.claimedBy === undefined ? { claimedBy: event.data.sub } : state;
    default: {
      const exhaustive: never = event.type;
      return exhaustive;
    }
  }
}

export const usernameDecider: Decider<UsernameState, UsernameCommand, UsernameEvent> = {
  initialState: () => ({}),
  evolve: evolveUsername,
  decide: decideUsername,
};
