import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { passwordVerifications } from '../../infra/metrics/metrics.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { AuthnApp } from '../../services/authn/app/authn.app.js';

/**
 * Concurrent logins of one account (issue 8, "logins that scale"): every login of an account
 * appends to its stream, so parallel ones race on the expected version. None may fail for it,
 * and argon2 runs once per attempt, not once per retry.
 */
const ctx: RequestContext = { tenant: 'default', correlationId: 'c', causationId: null, actor: { kind: 'system', id: 'login-form' } };
const verifications = async () => (await passwordVerifications.get()).values[0]?.value ?? 0;

describe.each([
  ['in-memory', async () => ({ store: new InMemoryEventStore() as EventStore, cleanup: () => {} })],
  [
    'SQLite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-login-'));
      return { store: SqliteEventStore.open(path.join(dir, 'log.db')) as EventStore, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  ],
])('authn: concurrent logins of one account (%s log)', (_name, open) => {
  let store: EventStore;
  let cleanup: () => void;
  let app: AuthnApp;
  beforeEach(async () => {
    ({ store, cleanup } = await open());
    app = new AuthnApp({
      store,
      projections: new InMemoryProjectionStore(),
      dataKeys: new InMemoryDataKeyStore(randomBytes(32)),
      usernameKey: randomBytes(32),
      sessionTtlSeconds: 60,
    });
    await app.registerUser(ctx, { username: 'dora', password: 'correct horse battery staple' });
  });
  afterEach(async () => {
    await store.close();
    cleanup();
  });

  it('16 logins at once all succeed, each with one argon2 verification and its own recorded authentication', async () => {
    const before = await verifications();
    const results = await Promise.all(
      Array.from({ length: 16 }, () => app.login(ctx, { username: 'dora', password: 'correct horse battery staple', clientId: 'web' })),
    );
    expect(results.filter((r) => r.authenticated)).toHaveLength(16);
    expect((await verifications()) - before).toBe(16);
    const log = await store.readAll();
    expect(log.filter((e) => e.type === 'authentication.succeeded')).toHaveLength(16);
    expect(log.filter((e) => e.type === 'session.started')).toHaveLength(16);
  }, 60_000);

  it('wrong passwords at once are each refused after one verification', async () => {
    const before = await verifications();
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => app.login(ctx, { username: 'dora', password: `wrong-${i}`, clientId: 'web' })),
    );
    expect(results.every((r) => !r.authenticated)).toBe(true);
    expect((await verifications()) - before).toBe(4);
    expect((await store.readAll()).filter((e) => e.type === 'authentication.failed')).toHaveLength(4);
  }, 60_000);
});
