import type { OAuthError } from '../../../contracts/oauth-error.js';

/**
 * A decision may both record events and refuse: a replayed code records the detection and the
 * revocation, then answers `invalid_grant` (DESIGN §4).
 */
export interface Decision<E> {
  events: E[];
  rejection?: OAuthError;
}

/** Three pure functions per aggregate; time and ids come in the command. */
export interface Decider<S, C, E> {
  initialState: () => S;
  evolve: (state: S, event: E) => S;
  decide: (command: C, state: S) => Decision<E>;
}

export const accept = <E>(...events: E[]): Decision<E> => ({ events });
export const reject = <E>(rejection: OAuthError, ...events: E[]): Decision<E> => ({ events, rejection });
