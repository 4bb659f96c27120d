import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { UserEvent } from '../../contracts/events/user.js';
import { sealJson } from '../../infra/crypto/envelope.js';
import { userDecider, type UserCommand } from '../../services/authn/domain/user/user.js';
import {
  foldUserWatermark,
  userWatermarkOf,
  userWatermarkRefuses,
  type UserWatermark,
} from '../../services/shared/projections/user-watermark.js';
import { spec } from '../support/decider-spec.js';

const { given } = spec(userDecider);

/** Time comes in the command. */
const T0 = new Date('2026-11-30T14:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const epoch = (date: Date) => Math.floor(date.getTime() / 1000);

function user() {
  const sub = randomUUID();
  const dataKey = randomBytes(32);
  const sealedHash = (phc: string) => sealJson(dataKey, phc, `password:default:${sub}`);
  const registered: UserEvent = {
    type: 'user.registered',
    schemaVersion: 2,
    data: {
      sub,
      usernameDigest: createHash('sha256').update(`default:${sub}`).digest('hex'),
      sealedPasswordHash: sealedHash('$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'),
      profile: sealJson(dataKey, { preferred_username: 'alice' }, `default:${sub}`),
    },
  };
  const disabled = (when = T0, reason?: string): UserEvent => ({
    type: 'user.disabled',
    schemaVersion: 1,
    data: { sub, disabledAt: when.toISOString(), ...(reason !== undefined ? { reason } : {}) },
  });
  const enabled = (when = at(60)): UserEvent => ({ type: 'user.enabled', schemaVersion: 1, data: { sub, enabledAt: when.toISOString() } });
  const forgotten = (when = at(120)): UserEvent => ({ type: 'user.forgotten', schemaVersion: 1, data: { sub, forgottenAt: when.toISOString() } });
  const failed = (when = T0): UserEvent => ({
    type: 'authentication.failed',
    schemaVersion: 2,
    data: { sub, reason: 'invalid_password', clientId: null, at: when.toISOString(), source: null },
  });
  const login = (passwordMatched: boolean | null, now = at(200)): UserCommand => ({
    type: 'record_authentication',
    passwordMatched,
    clientId: null,
    source: null,
    now,
  });
  return { sub, sealedHash, registered, disabled, enabled, forgotten, failed, login };
}

describe('user decider: what administrators decide', () => {
  test('disable records user.disabled at the command\'s time, with the reason when given', () => {
    const u = user();
    given([u.registered]).when({ type: 'disable_user', now: T0, reason: 'left the company' }).then([u.disabled(T0, 'left the company')]);
    given([u.registered]).when({ type: 'disable_user', now: T0 }).then([u.disabled(T0)]);
  });

  test('disabling twice appends nothing: the first watermark stays', () => {
    const u = user();
    given([u.registered, u.disabled()]).when({ type: 'disable_user', now: at(30) }).thenNothing();
  });

  test('enable records user.enabled; enabling an active user appends nothing', () => {
    const u = user();
    given([u.registered, u.disabled()]).when({ type: 'enable_user', now: at(60) }).then([u.enabled(at(60))]);
    given([u.registered]).when({ type: 'enable_user', now: at(60) }).thenNothing();
    given([u.registered, u.disabled(), u.enabled()]).when({ type: 'enable_user', now: at(90) }).thenNothing();
  });

  test('a forgotten user cannot be enabled, given a password or disabled into anything else', () => {
    const u = user();
    given([u.registered, u.forgotten()]).when({ type: 'enable_user', now: at(200) }).then([], { error: 'invalid_request', mayRedirect: false });
    given([u.registered, u.disabled(), u.forgotten()]).when({ type: 'enable_user', now: at(200) }).then([], { error: 'invalid_request' });
    given([u.registered, u.forgotten()])
      .when({ type: 'set_password', now: at(200), sealedPasswordHash: u.sealedHash('$argon2id$new') })
      .then([], { error: 'invalid_request' });
    given([u.registered, u.forgotten()]).when({ type: 'disable_user', now: at(200) }).thenNothing();
  });

  test('forget records user.forgotten once; forgetting again appends nothing (the caller destroys the key again)', () => {
    const u = user();
    given([u.registered]).when({ type: 'forget_user', now: at(120) }).then([u.forgotten(at(120))]);
    given([u.registered, u.disabled()]).when({ type: 'forget_user', now: at(120) }).then([u.forgotten(at(120))]);
    given([u.registered, u.forgotten()]).when({ type: 'forget_user', now: at(300) }).thenNothing();
  });

  test('set_password records the sealed hash; without a data key (null) it is refused', () => {
    const u = user();
    const sealed = u.sealedHash('$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3');
    given([u.registered, u.disabled()])
      .when({ type: 'set_password', now: at(10), sealedPasswordHash: sealed })
      .then([{ type: 'user.password_set', schemaVersion: 1, data: { sub: u.sub, sealedPasswordHash: sealed, setAt: at(10).toISOString() } }]);
    given([u.registered]).when({ type: 'set_password', now: at(10), sealedPasswordHash: null }).then([], { error: 'invalid_request' });
  });

  test('a new password starts the throttle again: failures counted before it are forgotten', () => {
    const u = user();
    const sealed = u.sealedHash('$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3');
    const set: UserEvent = { type: 'user.password_set', schemaVersion: 1, data: { sub: u.sub, sealedPasswordHash: sealed, setAt: at(10).toISOString() } };
    const state = [u.registered, u.failed(), u.failed(), set].reduce(userDecider.evolve, userDecider.initialState());
    expect(state).toMatchObject({ failedAttempts: 0, sourceFailures: [], passwordHash: { kind: 'sealed', sealed } });
  });

  test('every command about a user who was never registered is refused with nothing appended', () => {
    for (const command of [
      { type: 'disable_user', now: T0 },
      { type: 'enable_user', now: T0 },
      { type: 'forget_user', now: T0 },
      { type: 'set_password', now: T0, sealedPasswordHash: null },
    ] as UserCommand[]) {
      given([]).when(command).then([], { error: 'invalid_request' });
    }
  });
});

describe('user decider: logins of a disabled or forgotten user', () => {
  test('refused like a wrong password (access_denied), and nothing is recorded, whatever the password', () => {
    const u = user();
    for (const history of [[u.registered, u.disabled()], [u.registered, u.forgotten()], [u.registered, u.disabled(), u.forgotten()]]) {
      given(history).when(u.login(true)).then([], { error: 'access_denied', mayRedirect: false });
      given(history).when(u.login(false)).then([], { error: 'access_denied', mayRedirect: false });
      given(history).when(u.login(null)).then([], { error: 'access_denied', mayRedirect: false });
    }
  });

  test('enabled again, the user logs in', () => {
    const u = user();
    given([u.registered, u.disabled(), u.enabled()]).when(u.login(true)).thenNothing();
    given([u.registered, u.disabled(), u.enabled()]).when(u.login(false)).then([expect.objectContaining({ type: 'authentication.failed' })] as never, {
      error: 'access_denied',
    });
  });
});

describe('user watermark (DESIGN §3)', () => {
  const u = user();
  const fold = (events: UserEvent[]) => events.reduce<UserWatermark | undefined>(foldUserWatermark, undefined);

  test('disabled: every token refused, issued before or after; enabled: tokens up to the enabling stay refused, later ones pass', () => {
    const disabled = fold([u.registered, u.disabled(T0)]);
    expect(userWatermarkRefuses(disabled, epoch(T0) - 3600)).toBe(true);
    expect(userWatermarkRefuses(disabled, epoch(at(10)))).toBe(true);
    const enabled = fold([u.registered, u.disabled(T0), u.enabled(at(60))]);
    expect(userWatermarkRefuses(enabled, epoch(T0) - 3600)).toBe(true);
    expect(userWatermarkRefuses(enabled, epoch(at(60)))).toBe(true); // same second: refused
    expect(userWatermarkRefuses(enabled, epoch(at(61)))).toBe(false);
  });

  test('forgotten refuses everything for good; no watermark refuses nothing', () => {
    const forgotten = fold([u.registered, u.forgotten(at(120)), u.enabled(at(180))]);
    expect(forgotten).toEqual({ revokedThrough: epoch(at(180)), refusesAll: 'forgotten' });
    expect(userWatermarkRefuses(forgotten, epoch(at(3600)))).toBe(true);
    expect(userWatermarkRefuses(fold([u.registered, u.failed()]), epoch(T0))).toBe(false);
  });

  test('the projection\'s value of each event is the fold\'s (what a rebuild and the write-through agree on)', () => {
    for (const history of [[u.disabled(T0)], [u.disabled(T0), u.enabled(at(60))], [u.disabled(T0), u.forgotten(at(120))]]) {
      expect(userWatermarkOf(history.at(-1)!)).toEqual(fold(history));
    }
  });
});
