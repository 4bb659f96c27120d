import type { SealedJson } from '../../../../contracts/events/define.js';
import type { UserEvent } from '../../../../contracts/events/user.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import type { z } from 'zod';
import { accept, reject, type Decider, type Decision } from '../../../shared/domain/decider.js';

type Sealed = z.infer<typeof SealedJson>;

/**
 * The password hash as the log keeps it: the argon2id PHC string sealed under the user's data key
 * (`user.registered` v2, `user.password_rehashed` v2), or in plaintext (the V1 events of logs
 * written before). Only the app can open a sealed one (it holds the data keys); the decider
 * compares what is stored, never what it says.
 */
export type StoredPasswordHash = { kind: 'sealed'; sealed: Sealed } | { kind: 'plaintext'; phc: string };

/** Whether two stored hashes are the same stored value (a rehash replaces only the one it read). */
export function sameStoredHash(a: StoredPasswordHash, b: StoredPasswordHash): boolean {
  if (a.kind === 'plaintext') return b.kind === 'plaintext' && a.phc === b.phc;
  if (b.kind === 'plaintext') return false;
  return a.sealed.iv === b.sealed.iv && a.sealed.ct === b.sealed.ct && a.sealed.tag === b.sealed.tag;
}

export type UserState =
  | { status: 'unregistered' }
  | {
      status: 'registered';
      sub: string;
      usernameDigest: string;
      passwordHash: StoredPasswordHash;
      profile: Sealed;
      /** Consecutive failures from all sources since the last success, and when the last one happened. */
      failedAttempts: number;
      lastFailureAt?: string;
      /** The same per source (an HMAC of the client IP, or null): the most recent last, at most MAX_TRACKED_SOURCES. */
      sourceFailures: readonly SourceFailures[];
      /** What administrators decided: only an active user logs in. */
      standing: UserStanding;
    };

/**
 * `disabled` until `user.enabled`; `forgotten` for good (the data key is destroyed). Times are the
 * watermarks' (ISO): tokens issued at or before them are refused (services/shared/projections/
 * user-watermark.ts).
 */
export type UserStanding =
  | { status: 'active' }
  | { status: 'disabled'; since: string; reason: string | null }
  | { status: 'forgotten'; since: string };

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
  /**
   * `account`: the new account's sealed password hash and sealed profile, or null when the caller
   * found the user registered already (and made nothing: registering again writes nothing).
   */
  | {
      type: 'register_user';
      sub: string;
      usernameDigest: string;
      account: { sealedPasswordHash: Sealed; profile: Sealed } | null;
    }
  /**
   * The password was checked by the caller (argon2 is slow and not pure); this records the
   * outcome. `passwordMatched` is null when the caller did not check it: because of the throttle,
   * or because the stored hash cannot be opened any more (the user's data key was destroyed).
   * `rehash`: the caller found the stored hash outdated (other parameters, or not sealed yet) and
   * hashed the password again, sealed (`to`), replacing the hash it verified against (`from`).
   * `source`: the HMAC of the attempt's client IP, or null.
   */
  | {
      type: 'record_authentication';
      passwordMatched: boolean | null;
      clientId: string | null;
      source: string | null;
      now: Date;
      rehash?: { from: StoredPasswordHash; to: Sealed } | undefined;
    }
  | UserAdminCommand;

/**
 * What an administrator decides about a user (`idp user …`, authn's admin messages). Time comes
 * in the command. `set_password.sealedPasswordHash`: the new hash sealed by the caller under the
 * user's data key, null when the key is gone (then the user is forgotten and it is refused).
 */
export type UserAdminCommand =
  | { type: 'disable_user'; now: Date; reason?: string | undefined }
  | { type: 'enable_user'; now: Date }
  | { type: 'set_password'; now: Date; sealedPasswordHash: Sealed | null }
  | { type: 'forget_user'; now: Date };

/** The refusal of a command about a user who does not exist (the caller answers `found: false`). */
export const NO_SUCH_USER = 'no such user';

export function decideUser(command: UserCommand, state: UserState): Decision<UserEvent> {
  switch (command.type) {
    case 'register_user':
      if (state.status === 'registered') return accept();
      if (!command.account) {
        return reject(new OAuthError('server_error', 'registration failed', { mayRedirect: false, detail: 'no account to register' }));
      }
      return accept({
        type: 'user.registered',
        schemaVersion: 2,
        data: {
          sub: command.sub,
          usernameDigest: command.usernameDigest,
          sealedPasswordHash: command.account.sealedPasswordHash,
          profile: command.account.profile,
        },
      });
    case 'disable_user':
    case 'enable_user':
    case 'set_password':
    case 'forget_user':
      return decideUserAdmin(command, state);
    case 'record_authentication':
      if (state.status !== 'registered') {
        // The same answer as a wrong password, so it does not tell which usernames exist.
        return reject(
          new OAuthError('access_denied', 'invalid username or password', { mayRedirect: false, detail: 'unknown user' }),
        );
      }
      if (state.standing.status !== 'active') {
        // Disabled or forgotten: the same answer as a wrong password, unchecked and unrecorded
        // (the caller paid for one argon2 verify on the decoy, so the time says nothing either).
        return reject(
          new OAuthError('access_denied', 'invalid username or password', { mayRedirect: false, detail: `user ${state.standing.status}` }),
        );
      }
      {
        const until = throttledUntil(state, command.source);
        if (command.passwordMatched === null || (until && command.now < until)) {
          // Same answer as a wrong password: the throttle does not confirm that the account exists,
          // and a forgotten account (its hash unreadable) answers like any other refusal.
          return reject(
            new OAuthError('access_denied', 'invalid username or password', {
              mayRedirect: false,
              detail: until && command.now < until ? `throttled until ${until.toISOString()}` : 'password not checked (credential unreadable)',
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
          command.rehash && sameStoredHash(command.rehash.from, state.passwordHash)
            ? [{ type: 'user.password_rehashed', schemaVersion: 2, data: { sub: state.sub, sealedPasswordHash: command.rehash.to } }]
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

function decideUserAdmin(command: UserAdminCommand, state: UserState): Decision<UserEvent> {
  if (state.status !== 'registered') {
    return reject(new OAuthError('invalid_request', NO_SUCH_USER, { mayRedirect: false }));
  }
  const { sub, standing } = state;
  const at = command.now.toISOString();
  const forgotten = () =>
    reject<UserEvent>(new OAuthError('invalid_request', 'the user was forgotten: their data is destroyed for good', { mayRedirect: false }));
  switch (command.type) {
    case 'disable_user':
      // Disabling again keeps the first watermark; a forgotten user is refused everything already.
      if (standing.status !== 'active') return accept();
      return accept({
        type: 'user.disabled',
        schemaVersion: 1,
        data: { sub, disabledAt: at, ...(command.reason !== undefined ? { reason: command.reason } : {}) },
      });
    case 'enable_user':
      if (standing.status === 'forgotten') return forgotten();
      if (standing.status === 'active') return accept();
      return accept({ type: 'user.enabled', schemaVersion: 1, data: { sub, enabledAt: at } });
    case 'set_password':
      if (standing.status === 'forgotten' || command.sealedPasswordHash === null) return forgotten();
      return accept({ type: 'user.password_set', schemaVersion: 1, data: { sub, sealedPasswordHash: command.sealedPasswordHash, setAt: at } });
    case 'forget_user':
      if (standing.status === 'forgotten') return accept();
      return accept({ type: 'user.forgotten', schemaVersion: 1, data: { sub, forgottenAt: at } });
  }
}

/** Whether this decision recorded the login on the user's stream (else its caller records it). */
export function recordedLogin(decision: Decision<UserEvent>): boolean {
  return decision.events.some((event) => event.type === 'authentication.succeeded');
}

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'user.registered': {
      const { sub, usernameDigest, profile } = event.data;
      const passwordHash: StoredPasswordHash =
        event.schemaVersion === 2 ? { kind: 'sealed', sealed: event.data.sealedPasswordHash } : { kind: 'plaintext', phc: event.data.passwordHash };
      return {
        status: 'registered',
        sub,
        usernameDigest,
        passwordHash,
        profile,
        failedAttempts: 0,
        sourceFailures: [],
        standing: { status: 'active' },
      };
    }
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
    case 'user.password_rehashed': {
      if (state.status !== 'registered') return state;
      const passwordHash: StoredPasswordHash =
        event.schemaVersion === 2 ? { kind: 'sealed', sealed: event.data.sealedPasswordHash } : { kind: 'plaintext', phc: event.data.passwordHash };
      return { ...state, passwordHash };
    }
    case 'user.disabled':
      if (state.status !== 'registered') return state;
      return { ...state, standing: { status: 'disabled', since: event.data.disabledAt, reason: event.data.reason ?? null } };
    case 'user.enabled':
      if (state.status !== 'registered' || state.standing.status === 'forgotten') return state;
      return { ...state, standing: { status: 'active' } };
    case 'user.password_set': {
      // A new password: the throttle's counts start again (the administrator's reset unlocks).
      if (state.status !== 'registered') return state;
      const { lastFailureAt: _cleared, ...rest } = state;
      return { ...rest, passwordHash: { kind: 'sealed', sealed: event.data.sealedPasswordHash }, failedAttempts: 0, sourceFailures: [] };
    }
    case 'user.forgotten':
      if (state.status !== 'registered') return state;
      return { ...state, standing: { status: 'forgotten', since: event.data.forgottenAt } };
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
