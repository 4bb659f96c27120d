import { createHmac, randomBytes } from 'node:crypto';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { Login } from '../../contracts/messages/authn.js';
import { serve } from '../../infra/bus/typed.js';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { passwordVerifications } from '../../infra/metrics/metrics.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { AuthnApp } from '../../services/authn/app/authn.app.js';
import { FREE_ATTEMPTS } from '../../services/authn/domain/user/user.js';

/**
 * The login throttle per source (issue 10 point 6), through the Login bus message as authn serves
 * it: the gateway's client IP comes in as `source`, and only its HMAC is ever recorded.
 */
const ctx: RequestContext = { tenant: 'default', correlationId: 'c', causationId: null, actor: { kind: 'system', id: 'login-form' } };
const FAST_ARGON2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const T0 = new Date('2025-06-01T12:00:00.000Z');
const PASSWORD = 'hunter2-but-longer';
const ATTACKER = '203.0.113.7';
const USER_IP = '2001:db8::42';
const verifications = async () => (await passwordVerifications.get()).values[0]?.value ?? 0;

describe('authn: the login throttle counts failures per source', () => {
  let store: InMemoryEventStore;
  let app: AuthnApp;
  let usernameKey: Buffer;
  let loginSourceKey: Buffer;
  const login = (request: Record<string, unknown>) =>
    serve(Login, { ctx, clientId: null, ...request }, (r) => app.login(r.ctx, r), (error) => {
      throw error;
    });
  const guess = (username: string, source: string, i: number) => login({ username, password: `guess-${i}`, source });

  beforeEach(async () => {
    store = new InMemoryEventStore();
    usernameKey = randomBytes(32);
    loginSourceKey = randomBytes(32);
    app = new AuthnApp({
      store,
      projections: new InMemoryProjectionStore(),
      dataKeys: new InMemoryDataKeyStore(randomBytes(32)),
      usernameKey,
      loginSourceKey,
      sessionTtlSeconds: 60,
      argon2: FAST_ARGON2,
      clock: () => T0,
    });
    await app.registerUser(ctx, { username: 'erin', password: PASSWORD });
  });

  it("one source's failures throttle that source, while another signs in with the right password at once", async () => {
    for (let i = 0; i < FREE_ATTEMPTS; i++) await guess('erin', ATTACKER, i);
    // The clock stands still: the attacker's source is within its wait, even with the right password.
    expect(await login({ username: 'erin', password: PASSWORD, source: ATTACKER })).toEqual({ ok: true, value: { authenticated: false } });
    const user = await login({ username: 'erin', password: PASSWORD, source: USER_IP });
    expect(user.ok && user.value.authenticated).toBe(true);
    // The user's success does not free the attacker's source.
    expect(await login({ username: 'erin', password: PASSWORD, source: ATTACKER })).toEqual({ ok: true, value: { authenticated: false } });
  });

  it('no IP appears in any event: only its HMAC under the login source key, as the source of failures and of the success that resets them', async () => {
    for (let i = 0; i < 2; i++) await guess('erin', ATTACKER, i);
    await guess('erin', USER_IP, 9);
    await login({ username: 'erin', password: PASSWORD, source: USER_IP });
    const events = await store.readAll();
    const recorded = JSON.stringify(events);
    expect(recorded).not.toContain(ATTACKER);
    expect(recorded).not.toContain(USER_IP);
    const digest = (ip: string) => createHmac('sha256', loginSourceKey).update(`source:default:${ip}`).digest('hex');
    const sources = events.filter((e) => e.type.startsWith('authentication.')).map((e) => [e.type, e.schemaVersion, (e.data as { source?: unknown }).source]);
    expect(sources).toEqual([
      ['authentication.failed', 2, digest(ATTACKER)],
      ['authentication.failed', 2, digest(ATTACKER)],
      ['authentication.failed', 2, digest(USER_IP)],
      ['authentication.succeeded', 2, digest(USER_IP)],
    ]);
    // The username key (whose HMACs name accounts) is not the one that keys sources.
    const underUsernameKey = createHmac('sha256', usernameKey).update(`source:default:${ATTACKER}`).digest('hex');
    expect(recorded).not.toContain(underUsernameKey);
  });

  it('a login without a source (null or absent) is counted as the source null', async () => {
    for (let i = 0; i < FREE_ATTEMPTS; i++) await login({ username: 'erin', password: `guess-${i}`, source: null });
    expect(await login({ username: 'erin', password: PASSWORD })).toEqual({ ok: true, value: { authenticated: false } });
    const other = await login({ username: 'erin', password: PASSWORD, source: USER_IP });
    expect(other.ok && other.value.authenticated).toBe(true);
  });

  it('a source longer than 64 characters is invalid_request at the bus edge, and nothing is appended', async () => {
    const before = (await store.readAll()).length;
    const reply = await login({ username: 'erin', password: PASSWORD, source: 'x'.repeat(65) });
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.error.code).toBe('invalid_request');
    expect((await store.readAll()).length).toBe(before);
  });

  it('an unknown username answers exactly like a throttled account: the same reply, one argon2 run each, nothing recorded', async () => {
    for (let i = 0; i < FREE_ATTEMPTS; i++) await guess('erin', ATTACKER, i);
    for (let i = 0; i < FREE_ATTEMPTS; i++) await guess('nobody', ATTACKER, i);
    const before = (await store.readAll()).length;

    const throttledRuns = await verifications();
    const throttled = await login({ username: 'erin', password: PASSWORD, source: ATTACKER });
    const throttledCost = (await verifications()) - throttledRuns;

    const unknownRuns = await verifications();
    const unknown = await login({ username: 'nobody', password: PASSWORD, source: ATTACKER });
    const unknownCost = (await verifications()) - unknownRuns;

    expect(throttled).toEqual({ ok: true, value: { authenticated: false } });
    expect(unknown).toEqual(throttled);
    expect(throttledCost).toBe(1);
    expect(unknownCost).toBe(1);
    expect((await store.readAll()).length).toBe(before);
  });
});
