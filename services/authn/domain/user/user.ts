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
      /** Consecutive failures from all sources since the last success, and when the last one happened. */
      failedAttempts: number;
      lastFailureAt?: string;
      /** The same per source (an HMAC of the client IP, or null): the most recent last, at most MAX_TRACKED_SOURCES. */
      sourceFailures: readonly SourceFailures[];
    };

export type SourceFailures = { source: string | null; count: number; lastFailureAt: string };

/** Failures allowed before the throttle starts (NIST SP 800-63B §5.2.2: limit online guessing). */
export const FREE_ATTEMPTS = 5;
/** The longest wait the throttle imposes: bounds how long an attacker can lock a user out. */
export const MAX_DELAY_SECONDS = 900;

/**
 * Failures from all sources together before every source is throttled: NIST SP 800-63B §5.2.2
 * allows at most 100 consecutive failed attempts on an account, so many sources cannot guess
 * without bound.
 */
export const ACCOUNT_FREE_ATTEMPTS = 100;
/** How many sources' failure counts an account keeps; the least recently failing one is dropped. */
export const MAX_TRACKED_SOURCES = 64;

/**
 * When the next password attempt from `source` may be checked, or undefined if now. After
 * FREE_ATTEMPTS consecutive failures from one source, each further one doubles that source's wait
 * (1 s, 2 s, 4 s, ... up to 15 min): other sources are not slowed, so one source cannot lock the
 * user out. After ACCOUNT_FREE_ATTEMPTS consecutive failures from all sources together, the same
 * doubling wait applies to every source. Attempts in the wait are refused without checking the
 * password and without an event, so the user's stream cannot be flooded.
 */
export function throttledUntil(state: UserState, source: string | null): Date | undefined {
  if (state.status !== 'registered') return undefined;
  const own = state.sourceFailures.find((entry) => entry.source === source);
  const waits = [
    own && backoff(own.count, FREE_ATTEMPTS, own.lastFailureAt),
    state.lastFailureAt && backoff(state.failedAttempts, ACCOUNT_FREE_ATTEMPTS, state.lastFailureAt),
  ].filter((until): until is Date => until instanceof Date);
  return waits.length === 0 ? undefined : new Date(Math.max(...waits.map((until) => until.getTime())));
}

function backoff(failures: number, free: number, lastFailureAt: string): Date | undefined {
  if (failures < free) return undefined;
  const delay = Math.min(2 ** (failures - free), MAX_DELAY_SECONDS);
  return new Date(Date.parse(lastFailureAt) + delay * 1000);
}

export type UserCommand =
  | {
      type: 'register_user';
      sub: string;
      usernameDigest: string;
      passwordHash: string;
      profile: z.infer<typeof SealedJson>;
    }
  /**
   * The password was checked by the caller (argon2 is slow and not pure); this records the
   * outcome. `passwordMatched` is null when the caller did not check it because of the throttle.
   * `rehash`: the caller found the stored hash's parameters outdated and hashed the password
   * again (`to`), replacing the hash it verified against (`from`). `source`: the HMAC of the
   * attempt's client IP, or null.
   */
  | {
      type: 'record_authentication';
      passwordMatched: boolean | null;
      clientId: string | null;
      source: string | null;
      now: Date;
      rehash?: { from: string; to: string } | undefined;
    };

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
      {
        const until = throttledUntil(state, command.source);
        if (command.passwordMatched === null || (until && command.now < until)) {
          // Same answer as a wrong password: the throttle does not confirm that the account exists.
          return reject(
            new OAuthError('access_denied', 'invalid username or password', {
              mayRedirect: false,
              detail: `throttled until ${until?.toISOString() ?? '?'}`,
            }),
          );
        }
      }
      if (!command.passwordMatched) {
        return reject(
          new OAuthError('access_denied', 'invalid username or password', { mayRedirect: false }),
          {
            type: 'authentication.failed',
            schemaVersion: 2,
            data: {
              sub: state.sub,
              reason: 'invalid_password',
              clientId: command.clientId,
              at: command.now.toISOString(),
              source: command.source,
            },
          },
        );
      }
      {
        // A rehash replaces only the hash it was made to replace: never one that changed since.
        const rehashed: UserEvent[] =
          command.rehash && command.rehash.from === state.passwordHash
            ? [{ type: 'user.password_rehashed', schemaVersion: 1, data: { sub: state.sub, passwordHash: command.rehash.to } }]
            : [];
        // A success that changes nothing here is not recorded here: the caller records it in
        // the login's own stream, so that logins never lengthen this one (issue 8).
        const resets = state.failedAttempts > 0 || state.sourceFailures.some((entry) => entry.source === command.source);
        if (!resets && rehashed.length === 0) return accept();
        return accept<UserEvent>(
          {
            type: 'authentication.succeeded',
            schemaVersion: 2,
            data: { sub: state.sub, method: 'pwd', clientId: command.clientId, source: command.source },
          },
          ...rehashed,
        );
      }
  }
}

/** Whether this decision recorded the login on the user's stream (else its caller records it). */
export function recordedLogin(decision: Decision<UserEvent>): boolean {
  return decision.events.some((event) => event.type === 'authentication.succeeded');
}

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'user.registered':
      return { status: 'registered', ...event.data, failedAttempts: 0, sourceFailures: [] };
    case 'authentication.succeeded': {
      // Resets the account-wide count and its own source's, not the others' (V1: source null).
      if (state.status !== 'registered') return state;
      const source = event.schemaVersion === 2 ? event.data.source : null;
      const { lastFailureAt: _cleared, ...rest } = state;
      return { ...rest, failedAttempts: 0, sourceFailures: state.sourceFailures.filter((entry) => entry.source !== source) };
    }
    case 'authentication.failed': {
      if (state.status !== 'registered') return state;
      const source = event.schemaVersion === 2 ? event.data.source : null;
      const previous = state.sourceFailures.find((entry) => entry.source === source);
      const others = state.sourceFailures.filter((entry) => entry !== previous);
      const current: SourceFailures = { source, count: (previous?.count ?? 0) + 1, lastFailureAt: event.data.at };
      return {
        ...state,
        failedAttempts: state.failedAttempts + 1,
        lastFailureAt: event.data.at,
        sourceFailures: [...others, current].slice(-MAX_TRACKED_SOURCES),
      };
    }
    case 'user.password_rehashed':
      return state.status === 'registered' ? { ...state, passwordHash: event.data.passwordHash } : state;
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
