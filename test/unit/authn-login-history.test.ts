import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { AuthnApp } from '../../services/authn/app/authn.app.js';
import { FREE_ATTEMPTS } from '../../services/authn/domain/user/user.js';

/**
 * A login's cost does not grow with past logins (issue 8): the only stream a login reads is the
 * user's, and successes that change nothing never lengthen it. Every login is still in the log
 * exactly once, as `authentication.succeeded` naming the user and the client.
 */
const ctx: RequestContext = { tenant: 'default', correlationId: 'c', causationId: null, actor: { kind: 'client', id: 'web' } };
const PASSWORD = 'correct horse battery staple';
const T0 = Date.parse('2025-06-01T12:00:00.000Z');

describe('authn: what logins record, and where', () => {
  let store: InMemoryEventStore;
  let app: AuthnApp;
  let now: Date;
  let sub: string;
  const userStream = () => `user-default-${sub}`;
  const login = (password: string, clientId: string | null, startSession?: boolean) =>
    app.login(ctx, { username: 'frank', password, clientId, ...(startSession === undefined ? {} : { startSession }) });

  beforeEach(async () => {
    store = new InMemoryEventStore();
    now = new Date(T0);
    app = new AuthnApp({
      store,
      projections: new InMemoryProjectionStore(),
      dataKeys: new InMemoryDataKeyStore(randomBytes(32)),
      usernameKey: randomBytes(32),
      loginSourceKey: randomBytes(32),
      sessionTtlSeconds: 60,
      argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
      clock: () => now,
    });
    ({ sub } = await app.registerUser(ctx, { username: 'frank', password: PASSWORD }));
  });

  it('200 logins, with and without sessions, leave the user stream at its one registration event', async () => {
    for (let i = 0; i < 200; i++) {
      const result = await login(PASSWORD, i % 3 === 0 ? null : `client-${i % 4}`, i % 2 === 0);
      expect(result.authenticated).toBe(true);
    }
    expect((await store.readStream(userStream())).events.map((e) => e.type)).toEqual(['user.registered']);

    const log = await store.readAll();
    const succeeded = log.filter((e) => e.type === 'authentication.succeeded');
    expect(succeeded).toHaveLength(200);
    // Who, through which client, when: each login its own stream of one event.
    expect(succeeded[1]!.data).toEqual({ sub, method: 'pwd', clientId: 'client-1' });
    expect(succeeded[0]!.data).toEqual({ sub, method: 'pwd', clientId: null });
    expect(new Set(succeeded.map((e) => e.streamName)).size).toBe(200);
    for (const event of succeeded) {
      expect(event.streamName).toMatch(/^authentication-default-[0-9a-f-]{36}$/);
      expect((await store.readStream(event.streamName)).events).toHaveLength(1);
      const { clientId } = event.data as { clientId: string | null };
      expect((event.metadata as { actor: unknown }).actor).toEqual(clientId ? { kind: 'client', id: clientId } : { kind: 'system', id: 'login-form' });
    }
    expect(log.filter((e) => e.type === 'session.started')).toHaveLength(100);
  });

  it('failures stay on the user stream; the success after them is recorded there, resetting the count, and the next is not', async () => {
    for (let i = 0; i < FREE_ATTEMPTS - 1; i++) expect((await login(`guess-${i}`, 'web')).authenticated).toBe(false);
    expect((await login(PASSWORD, 'web', false)).authenticated).toBe(true);
    expect((await login(PASSWORD, 'web', false)).authenticated).toBe(true);
    const types = (await store.readStream(userStream())).events.map((e) => e.type);
    expect(types).toEqual(['user.registered', ...Array<string>(FREE_ATTEMPTS - 1).fill('authentication.failed'), 'authentication.succeeded']);
    // One record per login all the same: one on the user stream, one in its own stream.
    const succeeded = (await store.readAll()).filter((e) => e.type === 'authentication.succeeded');
    expect(succeeded.map((e) => e.streamName.split('-')[0])).toEqual(['user', 'authentication']);
  });

  it('the count is reset for real: after the recorded success, failures start from zero again (no throttle)', async () => {
    for (let i = 0; i < FREE_ATTEMPTS - 1; i++) await login(`guess-${i}`, 'web');
    await login(PASSWORD, 'web');
    for (let i = 0; i < FREE_ATTEMPTS - 1; i++) await login(`again-${i}`, 'web');
    // Still below the throttle: the right password is checked and accepted at the same instant.
    expect((await login(PASSWORD, 'web')).authenticated).toBe(true);
  });

  it('the user projection holds no password hash: logins read it from the user stream', async () => {
    const projections = new InMemoryProjectionStore();
    const fresh = new AuthnApp({
      store: new InMemoryEventStore(),
      projections,
      dataKeys: new InMemoryDataKeyStore(randomBytes(32)),
      usernameKey: randomBytes(32),
      loginSourceKey: randomBytes(32),
      sessionTtlSeconds: 60,
      argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    });
    const { sub: other } = await fresh.registerUser(ctx, { username: 'gina', password: PASSWORD });
    const record = await projections.get<Record<string, unknown>>(`user:default:${other}`);
    expect(record).toBeDefined();
    expect(JSON.stringify(record)).not.toContain('$argon2');
  });
});
