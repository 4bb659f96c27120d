import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SealedJson } from '../../contracts/events/define.js';
import type { UserEvent, UserProfile } from '../../contracts/events/user.js';
import type { z } from 'zod';
import { sealJson } from '../../infra/crypto/envelope.js';
import {
  ACCOUNT_FREE_ATTEMPTS,
  FREE_ATTEMPTS,
  MAX_TRACKED_SOURCES,
  MAX_DELAY_SECONDS,
  throttledUntil,
  userDecider,
  type StoredPasswordHash,
  type UserCommand,
} from '../../services/authn/domain/user/user.js';
import { spec } from '../support/decider-spec.js';

type Sealed = z.infer<typeof SealedJson>;
const sha256Hex = (input: string | Buffer) => createHash('sha256').update(input).digest('hex');

const { given } = spec(userDecider);

/** Time comes in the command: a fixed clock, and seconds after it. */
const T0 = new Date('2025-06-01T12:00:00.000Z');
const after = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** A user as authn would register them: opaque sub, digest of the username, argon2id PHC, sealed profile. */
function person(username = 'alice') {
  const sub = randomUUID();
  const dataKey = randomBytes(32);
  const profile: UserProfile = {
    preferred_username: username,
    name: 'Alice Liddell',
    email: `${username}@example.com`,
    email_verified: true,
  };
  const salt = randomBytes(16).toString('base64').replace(/=+$/, '');
  const hash = randomBytes(32).toString('base64').replace(/=+$/, '');
  const phc = `$argon2id$v=19$m=65536,t=3,p=4$${salt}$${hash}`;
  const sealedPasswordHash = sealJson(dataKey, phc, `password:default:${sub}`);
  const usernameDigest = sha256Hex(`default:${username.toLowerCase()}`);
  const register: Extract<UserCommand, { type: 'register_user' }> = {
    type: 'register_user',
    sub,
    usernameDigest,
    account: { sealedPasswordHash, profile: sealJson(dataKey, profile, sub) },
  };
  const registered: UserEvent = { type: 'user.registered', schemaVersion: 2, data: { sub, usernameDigest, ...register.account! } };
  /** As logs written before sealing have it: the PHC string in plaintext. */
  const registeredV1: UserEvent = {
    type: 'user.registered',
    schemaVersion: 1,
    data: { sub, usernameDigest, passwordHash: phc, profile: register.account!.profile },
  };
  const stored: StoredPasswordHash = { kind: 'sealed', sealed: sealedPasswordHash };
  const storedV1: StoredPasswordHash = { kind: 'plaintext', phc };
  /** Another hash of the password, sealed as the login would seal it. */
  const resealed = () => sealJson(dataKey, phc.replace('m=65536,t=3,p=4', 'm=19456,t=2,p=1'), `password:default:${sub}`);
  const login = (
    passwordMatched: boolean | null,
    clientId: string | null,
    now = T0,
    rehash?: { from: StoredPasswordHash; to: Sealed },
    source: string | null = null,
  ): UserCommand => ({
    type: 'record_authentication',
    passwordMatched,
    clientId,
    source,
    now,
    rehash,
  });
  const failed = (clientId: string | null, at = T0, source: string | null = null): UserEvent => ({
    type: 'authentication.failed',
    schemaVersion: 2,
    data: { sub, reason: 'invalid_password', clientId, at: at.toISOString(), source },
  });
  /** As recorded before sources were: it folds as source null. */
  const failedV1 = (clientId: string | null, at = T0): UserEvent => ({
    type: 'authentication.failed',
    schemaVersion: 1,
    data: { sub, reason: 'invalid_password', clientId, at: at.toISOString() },
  });
  const succeeded = (clientId: string | null, source: string | null = null): UserEvent => ({
    type: 'authentication.succeeded',
    schemaVersion: 2,
    data: { sub, method: 'pwd', clientId, source },
  });
  const rehashed = (sealed: Sealed): UserEvent => ({
    type: 'user.password_rehashed',
    schemaVersion: 2,
    data: { sub, sealedPasswordHash: sealed },
  });
  const rehashedV1 = (passwordHash: string): UserEvent => ({
    type: 'user.password_rehashed',
    schemaVersion: 1,
    data: { sub, passwordHash },
  });
  return { sub, register, registered, registeredV1, stored, storedV1, resealed, login, failed, failedV1, succeeded, rehashed, rehashedV1 };
}

describe('user decider: registration', () => {
  test('OIDC Core §2: registering records user.registered with an opaque sub, the username only as a digest', () => {
    const alice = person();
    given([]).when(alice.register).then([alice.registered]);
  });

  test('registering an already registered user writes nothing (seeding is idempotent)', () => {
    const alice = person();
    given([alice.registered]).when(alice.register).thenNothing();
  });

  test('OIDC Core §5.7: sub is immutable: re-registering with other data writes nothing', () => {
    const alice = person();
    const other = person('mallory');
    given([alice.registered]).when({ ...other.register, sub: alice.sub }).thenNothing();
    given([alice.registeredV1]).when({ ...other.register, sub: alice.sub }).thenNothing();
  });

  test('issue 10: the password hash is recorded sealed (user.registered v2), never as a PHC string', () => {
    const alice = person();
    const decision = userDecider.decide(alice.register, userDecider.initialState());
    expect(decision.events).toEqual([alice.registered]);
    expect(JSON.stringify(decision.events)).not.toContain('$argon2id$');
  });

  test('a registration that brings no account for an unregistered user is refused and records nothing', () => {
    const alice = person();
    given([]).when({ ...alice.register, account: null }).then([], { error: 'server_error' });
  });

  test('both versions fold to the stored hash: sealed from v2, plaintext from v1 (logs written before sealing)', () => {
    const alice = person();
    const fold = (events: UserEvent[]) => events.reduce(userDecider.evolve, userDecider.initialState());
    expect(fold([alice.registered])).toMatchObject({ status: 'registered', passwordHash: alice.stored });
    expect(fold([alice.registeredV1])).toMatchObject({ status: 'registered', passwordHash: alice.storedV1 });
    const resealed = alice.resealed();
    expect(fold([alice.registeredV1, alice.rehashed(resealed)])).toMatchObject({ passwordHash: { kind: 'sealed', sealed: resealed } });
    expect(fold([alice.registered, alice.rehashedV1('$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA')])).toMatchObject({
      passwordHash: { kind: 'plaintext', phc: '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA' },
    });
  });
});

describe('user decider: password login', () => {
  test('a failed login records authentication.failed AND refuses with access_denied, never redirected', () => {
    const alice = person();
    const clientId = randomUUID();
    given([alice.registered])
      .when(alice.login(false, clientId))
      .then([alice.failed(clientId)], { error: 'access_denied', mayRedirect: false });
  });

  test('a failed login outside any client (clientId null) is recorded too', () => {
    const alice = person();
    given([alice.registered])
      .when(alice.login(false, null))
      .then([alice.failed(null)], { error: 'access_denied', mayRedirect: false });
  });

  test('a successful login that changes nothing succeeds without an event here (logins do not lengthen the user stream)', () => {
    const alice = person();
    const clientId = randomUUID();
    given([alice.registered]).when(alice.login(true, clientId)).then([]);
    given([alice.registered, alice.failed(null), alice.succeeded(null)]).when(alice.login(true, clientId)).then([]);
  });

  test('a successful login after failed ones records authentication.succeeded here: it resets the count', () => {
    const alice = person();
    const clientId = randomUUID();
    given([alice.registered, alice.failed(clientId), alice.failed(clientId)])
      .when(alice.login(true, clientId))
      .then([alice.succeeded(clientId)]);
  });

  test('a login for an unregistered user records nothing and refuses with access_denied', () => {
    const alice = person();
    given([]).when(alice.login(true, randomUUID())).then([], { error: 'access_denied', mayRedirect: false });
  });
});

describe('user decider: rehash of an outdated password hash', () => {
  test('a success with a rehash records the login and user.password_rehashed v2 (sealed) in one decision, and the new hash is the state', () => {
    const alice = person();
    const to = alice.resealed();
    given([alice.registered])
      .when(alice.login(true, 'web', T0, { from: alice.stored, to }))
      .then([alice.succeeded('web'), alice.rehashed(to)]);
    let state = userDecider.initialState();
    for (const event of [alice.registered, alice.rehashed(to)]) state = userDecider.evolve(state, event);
    expect(state.status === 'registered' && state.passwordHash).toEqual({ kind: 'sealed', sealed: to });
  });

  test('issue 10, existing logs: a v1 user (plaintext hash) logging in gets the hash replaced by a sealed one', () => {
    const alice = person();
    const to = alice.resealed();
    given([alice.registeredV1])
      .when(alice.login(true, null, T0, { from: alice.storedV1, to }))
      .then([alice.succeeded(null), alice.rehashed(to)]);
  });

  test('a rehash made from a hash that is no longer the stored one is dropped (a concurrent rehash won)', () => {
    const alice = person();
    const winner = alice.resealed();
    given([alice.registered, alice.rehashed(winner)])
      .when(alice.login(true, 'web', T0, { from: alice.stored, to: alice.resealed() }))
      .then([]);
    // The same plaintext hash read before a concurrent sealing: dropped too.
    given([alice.registeredV1, alice.rehashed(winner)])
      .when(alice.login(true, 'web', T0, { from: alice.storedV1, to: alice.resealed() }))
      .then([]);
  });

  test('a login whose password was not checked (the data key was destroyed) is refused like a wrong password and records nothing', () => {
    const alice = person();
    given([alice.registered]).when(alice.login(null, 'web')).then([], { error: 'access_denied', mayRedirect: false });
    given([alice.registeredV1]).when(alice.login(null, null)).then([], { error: 'access_denied', mayRedirect: false });
  });

  test('a failed or throttled attempt never rehashes', () => {
    const alice = person();
    const rehash = { from: alice.stored, to: alice.resealed() };
    given([alice.registered]).when(alice.login(false, null, T0, rehash)).then([alice.failed(null)], { error: 'access_denied' });
    const throttled = [alice.registered, ...Array.from({ length: FREE_ATTEMPTS }, () => alice.failed(null))];
    given(throttled).when(alice.login(true, null, T0, rehash)).then([], { error: 'access_denied' });
  });
});

describe('user decider: login throttle (NIST SP 800-63B §5.2.2)', () => {
  const failures = (alice: ReturnType<typeof person>, count: number) =>
    Array.from({ length: count }, (_, i) => alice.failed(null, after(i)));

  test(`the first ${FREE_ATTEMPTS} failures cost nothing but their event`, () => {
    const alice = person();
    given([alice.registered, ...failures(alice, FREE_ATTEMPTS - 1)])
      .when(alice.login(false, null, after(FREE_ATTEMPTS - 1)))
      .then([alice.failed(null, after(FREE_ATTEMPTS - 1))], { error: 'access_denied' });
  });

  test('after them, an attempt within the wait is refused like a wrong password, without checking and without an event', () => {
    const alice = person();
    const history = [alice.registered, ...failures(alice, FREE_ATTEMPTS)];
    // Even the right password, within the 1 s wait after the fifth failure.
    given(history).when(alice.login(true, null, after(FREE_ATTEMPTS - 1 + 0.5))).then([], { error: 'access_denied' });
    given(history).when(alice.login(null, null, after(FREE_ATTEMPTS - 1 + 0.5))).then([], { error: 'access_denied' });
  });

  test('once the wait is over, the password is checked again, and success resets the count', () => {
    const alice = person();
    const history = [alice.registered, ...failures(alice, FREE_ATTEMPTS)];
    given(history).when(alice.login(true, null, after(FREE_ATTEMPTS + 1))).then([alice.succeeded(null)]);
    let state = userDecider.initialState();
    for (const event of [...history, alice.succeeded(null)]) state = userDecider.evolve(state, event);
    expect(throttledUntil(state, null)).toBeUndefined();
  });

  test('the wait doubles with every further failure, up to the cap', () => {
    const alice = person();
    const waitAfter = (count: number) => {
      let state = userDecider.initialState();
      for (const event of [alice.registered, ...failures(alice, count)]) state = userDecider.evolve(state, event);
      return (throttledUntil(state, null)!.getTime() - after(count - 1).getTime()) / 1000;
    };
    expect(waitAfter(FREE_ATTEMPTS)).toBe(1);
    expect(waitAfter(FREE_ATTEMPTS + 1)).toBe(2);
    expect(waitAfter(FREE_ATTEMPTS + 3)).toBe(8);
    expect(waitAfter(FREE_ATTEMPTS + 40)).toBe(MAX_DELAY_SECONDS);
  });
});

describe('user decider: the throttle per source and per account (issue 10 point 6)', () => {
  /** Two sources as authn records them: HMACs of client IPs, never the IPs. */
  const A = sha256Hex('source A');
  const B = sha256Hex('source B');
  const failuresFrom = (alice: ReturnType<typeof person>, source: string | null, count: number, from = 0) =>
    Array.from({ length: count }, (_, i) => alice.failed(null, after(from + i), source));
  const fold = (events: UserEvent[]) => events.reduce(userDecider.evolve, userDecider.initialState());

  test("source A's failures throttle A, while source B logs in with the right password at once", () => {
    const alice = person();
    const history = [alice.registered, ...failuresFrom(alice, A, FREE_ATTEMPTS)];
    const within = after(FREE_ATTEMPTS - 1 + 0.5);
    given(history).when(alice.login(true, null, within, undefined, A)).then([], { error: 'access_denied', mayRedirect: false });
    // B's success resets the account-wide count and B's (which was zero): recorded, with its source.
    given(history).when(alice.login(true, null, within, undefined, B)).then([alice.succeeded(null, B)]);
    expect(throttledUntil(fold(history), A)).toEqual(after(FREE_ATTEMPTS - 1 + 1));
    expect(throttledUntil(fold(history), B)).toBeUndefined();
    // B's success does not free A: A is still in its wait.
    expect(throttledUntil(fold([...history, alice.succeeded(null, B)]), A)).toEqual(after(FREE_ATTEMPTS - 1 + 1));
  });

  test(`the account-wide cap: ${ACCOUNT_FREE_ATTEMPTS} consecutive failures from many sources throttle every source`, () => {
    const alice = person();
    // Each source stays under its own free attempts; together they reach the account's cap.
    const perSource = FREE_ATTEMPTS - 1;
    const history: UserEvent[] = [alice.registered];
    for (let i = 0; history.length - 1 < ACCOUNT_FREE_ATTEMPTS; i++) {
      const count = Math.min(perSource, ACCOUNT_FREE_ATTEMPTS - (history.length - 1));
      history.push(...failuresFrom(alice, sha256Hex(`source ${i}`), count, history.length - 1));
    }
    const last = after(ACCOUNT_FREE_ATTEMPTS - 1);
    const fresh = sha256Hex('a source never seen');
    expect(throttledUntil(fold(history), fresh)).toEqual(new Date(last.getTime() + 1000));
    given(history).when(alice.login(true, null, new Date(last.getTime() + 500), undefined, fresh)).then([], { error: 'access_denied' });
    // One failure short of the cap, the fresh source is not throttled.
    expect(throttledUntil(fold(history.slice(0, -1)), fresh)).toBeUndefined();
    // After the wait, the right password from anywhere is checked, and resets the account-wide count.
    given(history).when(alice.login(true, null, after(ACCOUNT_FREE_ATTEMPTS + 1), undefined, fresh)).then([alice.succeeded(null, fresh)]);
  });

  test('a success from A resets A (and the account-wide count), not the other sources', () => {
    const alice = person();
    const history = [alice.registered, ...failuresFrom(alice, A, FREE_ATTEMPTS), ...failuresFrom(alice, B, FREE_ATTEMPTS, FREE_ATTEMPTS)];
    const later = after(2 * FREE_ATTEMPTS + 10);
    given(history).when(alice.login(true, null, later, undefined, A)).then([alice.succeeded(null, A)]);
    const state = fold([...history, alice.succeeded(null, A)]);
    expect(state.status === 'registered' && state.failedAttempts).toBe(0);
    expect(state.status === 'registered' && state.sourceFailures.map((entry) => entry.source)).toEqual([B]);
    // A starts afresh: its next failure is free and recorded; B still owes its wait.
    given([...history, alice.succeeded(null, A)])
      .when(alice.login(false, null, later, undefined, A))
      .then([alice.failed(null, later, A)], { error: 'access_denied' });
    expect(throttledUntil(state, B)).toEqual(after(2 * FREE_ATTEMPTS - 1 + 1));
  });

  test('a success from a source with no failures, on an account with none, records nothing here', () => {
    const alice = person();
    given([alice.registered, alice.failed(null, T0, A), alice.succeeded(null, A)]).when(alice.login(true, null, T0, undefined, B)).then([]);
  });

  test('v1 authentication.failed events (no source) still fold, as source null', () => {
    const alice = person();
    const history = [alice.registered, ...Array.from({ length: FREE_ATTEMPTS }, (_, i) => alice.failedV1(null, after(i)))];
    const within = after(FREE_ATTEMPTS - 1 + 0.5);
    given(history).when(alice.login(true, null, within)).then([], { error: 'access_denied' });
    given(history).when(alice.login(true, null, within, undefined, A)).then([alice.succeeded(null, A)]);
    const state = fold(history);
    expect(state.status === 'registered' && state.failedAttempts).toBe(FREE_ATTEMPTS);
    expect(throttledUntil(state, null)).toEqual(after(FREE_ATTEMPTS));
  });

  test(`at most ${MAX_TRACKED_SOURCES} sources are kept: the least recently failing is dropped`, () => {
    const alice = person();
    const sources = Array.from({ length: MAX_TRACKED_SOURCES + 1 }, (_, i) => sha256Hex(`source ${i}`));
    const state = fold([alice.registered, ...sources.map((source, i) => alice.failed(null, after(i), source))]);
    expect(state.status === 'registered' && state.sourceFailures.map((entry) => entry.source)).toEqual(sources.slice(1));
    expect(state.status === 'registered' && state.failedAttempts).toBe(MAX_TRACKED_SOURCES + 1);
  });
});
