import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import type { Argon2Parameters } from '../../infra/crypto/passwords.js';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { passwordHashes, passwordVerifications } from '../../infra/metrics/metrics.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import type { ProjectionStore } from '../../infra/projections/port.js';
import { AuthnApp } from '../../services/authn/app/authn.app.js';
import { openPasswordHash } from '../../services/authn/app/password-hashes.js';
import type { Sealed } from '../../infra/crypto/envelope.js';
import { startNats, type TestServer } from '../support/servers.js';

/**
 * Concurrent logins of one account (issue 8, "logins that scale") against the real stores. A
 * login that changes nothing appends nothing to the user's stream, so those do not race at all;
 * a login that resets failures or rehashes does, and then each lost race is a re-read: argon2
 * verifies once per attempt, and a rehash is made at most once per attempt.
 */
const ctx: RequestContext = { tenant: 'default', correlationId: 'c', causationId: null, actor: { kind: 'system', id: 'login-form' } };
const counted = async (counter: typeof passwordVerifications) => (await counter.get()).values[0]?.value ?? 0;
/** Small argon2id parameters keep 50 verifications quick; the configured ones and older ones. */
const CURRENT: Argon2Parameters = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const OLDER: Argon2Parameters = { memoryCost: 2048, timeCost: 2, parallelism: 1 };
const PASSWORD = 'correct horse battery staple';
const LOGINS = 50;

let nats: TestServer | undefined;
afterAll(async () => {
  await nats?.stop();
});
const run = randomBytes(4).toString('hex');
let jetstreamLogs = 0;

describe.each([
  ['in-memory', async () => ({ store: new InMemoryEventStore() as EventStore, cleanup: async () => {} })],
  [
    'SQLite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-login-'));
      return {
        store: SqliteEventStore.open(path.join(dir, 'log.db')) as EventStore,
        cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'JetStream',
    async () => {
      nats ??= await startNats();
      const url = nats.url;
      const log = { streamName: `LOGIN_TEST_${run}_${++jetstreamLogs}`, subjectPrefix: `login-test.${run}.${jetstreamLogs}` };
      return {
        store: (await JetStreamEventStore.connect(url, log)) as EventStore,
        cleanup: async () => {
          const admin = await connect({ servers: url });
          await (await jetstreamManager(admin)).streams.delete(log.streamName).catch(() => undefined);
          await admin.close();
        },
      };
    },
  ],
])('authn: concurrent logins of one account (%s log)', (_name, open) => {
  let store: EventStore;
  let cleanup: () => Promise<void>;
  let projections: ProjectionStore;
  let app: AuthnApp;
  const usernameKey = randomBytes(32);
  const loginSourceKey = randomBytes(32);
  const dataKeys = new InMemoryDataKeyStore(randomBytes(32));
  const appWith = (argon2: Argon2Parameters) =>
    new AuthnApp({ store, projections, dataKeys, usernameKey, loginSourceKey, sessionTtlSeconds: 60, argon2 });

  beforeAll(async () => {
    ({ store, cleanup } = await open());
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });
  beforeEach(() => {
    projections = new InMemoryProjectionStore();
    app = appWith(CURRENT);
  });

  /** A fresh account per test (one log per store kind): its own user stream. */
  const register = async (argon2 = CURRENT) => {
    const username = `dora-${randomBytes(4).toString('hex')}`;
    const { sub } = await appWith(argon2).registerUser(ctx, { username, password: PASSWORD });
    return { username, userStream: `user-default-${sub}`, sub };
  };
  const eventsOf = async (sub: string) =>
    (await store.readAll()).filter((e) => (e.data as { sub?: string }).sub === sub);
  const loginsAtOnce = (username: string, options: { startSession?: boolean } = {}) =>
    Promise.all(Array.from({ length: LOGINS }, () => app.login(ctx, { username, password: PASSWORD, clientId: 'web', ...options })));

  it(`${LOGINS} logins at once all succeed, argon2 runs ${LOGINS} times, and the user stream does not grow`, async () => {
    const { username, userStream, sub } = await register();
    const before = await counted(passwordVerifications);
    const results = await loginsAtOnce(username);
    expect(results.filter((r) => r.authenticated && r.session)).toHaveLength(LOGINS);
    expect((await counted(passwordVerifications)) - before).toBe(LOGINS);
    const events = await eventsOf(sub);
    expect(events.filter((e) => e.type === 'authentication.succeeded')).toHaveLength(LOGINS);
    expect(events.filter((e) => e.type === 'session.started')).toHaveLength(LOGINS);
    expect((await store.readStream(userStream)).events.map((e) => e.type)).toEqual(['user.registered']);
  }, 120_000);

  it(`after failures, ${LOGINS} session-less logins at once: one resets the count on the user stream, all succeed, one verification each`, async () => {
    const { username, userStream, sub } = await register();
    for (const guess of ['guess-1', 'guess-2']) await app.login(ctx, { username, password: guess, clientId: 'web' });
    const before = await counted(passwordVerifications);
    const results = await loginsAtOnce(username, { startSession: false });
    expect(results.filter((r) => r.authenticated && r.session === null)).toHaveLength(LOGINS);
    expect((await counted(passwordVerifications)) - before).toBe(LOGINS);
    const events = await eventsOf(sub);
    expect(events.filter((e) => e.type === 'authentication.succeeded')).toHaveLength(LOGINS);
    expect(events.filter((e) => e.type === 'session.started')).toHaveLength(0);
    expect((await store.readStream(userStream)).events.map((e) => e.type)).toEqual([
      'user.registered',
      'authentication.failed',
      'authentication.failed',
      'authentication.succeeded',
    ]);
  }, 120_000);

  it(`a hash with outdated parameters: ${LOGINS} logins at once rehash it once, argon2 verifies ${LOGINS} times, each attempt hashes at most once`, async () => {
    const { username, userStream, sub } = await register(OLDER);
    const verifiedBefore = await counted(passwordVerifications);
    const hashedBefore = await counted(passwordHashes);
    const results = await loginsAtOnce(username);
    expect(results.filter((r) => r.authenticated)).toHaveLength(LOGINS);
    expect((await counted(passwordVerifications)) - verifiedBefore).toBe(LOGINS);
    const hashed = (await counted(passwordHashes)) - hashedBefore;
    expect(hashed).toBeGreaterThanOrEqual(1);
    expect(hashed).toBeLessThanOrEqual(LOGINS);
    const userEvents = (await store.readStream(userStream)).events;
    expect(userEvents.map((e) => e.type)).toEqual(['user.registered', 'authentication.succeeded', 'user.password_rehashed']);
    // Sealed under the user's data key (user.password_rehashed v2): opened here to read its parameters.
    const rehashed = userEvents[2]!;
    expect(rehashed.schemaVersion).toBe(2);
    const sealed = (rehashed.data as { sealedPasswordHash: Sealed }).sealedPasswordHash;
    const newHash = openPasswordHash((await dataKeys.get('default', sub))!, 'default', sub, { kind: 'sealed', sealed });
    const [, variant, version, parameters] = newHash.split('$');
    expect([variant, version]).toEqual(['argon2id', 'v=19']);
    expect(parameters!.split(',').sort()).toEqual(['m=1024', 'p=1', 't=1']);
    expect((await eventsOf(sub)).filter((e) => e.type === 'authentication.succeeded')).toHaveLength(LOGINS);

    // The next login finds the current parameters: it verifies once and hashes nothing.
    const verifiedThen = await counted(passwordVerifications);
    const hashedThen = await counted(passwordHashes);
    const next = await app.login(ctx, { username, password: PASSWORD, clientId: 'web' });
    expect(next.authenticated).toBe(true);
    expect((await counted(passwordVerifications)) - verifiedThen).toBe(1);
    expect((await counted(passwordHashes)) - hashedThen).toBe(0);
    expect((await store.readStream(userStream)).events).toHaveLength(3);
  }, 120_000);

  it('wrong passwords at once are each refused after one verification and each recorded', async () => {
    const { username, userStream } = await register(OLDER);
    const before = await counted(passwordVerifications);
    const hashedBefore = await counted(passwordHashes);
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => app.login(ctx, { username, password: `wrong-${i}`, clientId: 'web' })),
    );
    expect(results.every((r) => !r.authenticated)).toBe(true);
    expect((await counted(passwordVerifications)) - before).toBe(4);
    // A wrong password never rehashes, whatever the stored parameters.
    expect((await counted(passwordHashes)) - hashedBefore).toBe(0);
    const types = (await store.readStream(userStream)).events.map((e) => e.type);
    expect(types.filter((t) => t === 'authentication.failed')).toHaveLength(4);
    expect(types).not.toContain('user.password_rehashed');
  }, 120_000);
});
