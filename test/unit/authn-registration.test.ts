import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { AuthnApp } from '../../services/authn/app/authn.app.js';

const ctx: RequestContext = { tenant: 'default', correlationId: 'c', causationId: null, actor: { kind: 'admin', id: 'test' } };

describe('authn: registering users (real in-memory adapters, the embedded mode)', () => {
  let store: InMemoryEventStore;
  let app: AuthnApp;
  beforeEach(() => {
    store = new InMemoryEventStore();
    const kek = randomBytes(32);
    app = new AuthnApp({
      store,
      projections: new InMemoryProjectionStore(),
      dataKeys: new InMemoryDataKeyStore(kek),
      usernameKey: randomBytes(32),
      loginSourceKey: randomBytes(32),
      sessionTtlSeconds: 60,
    });
  });
  afterEach(() => store.close());

  it('two registrations of one username at the same instant make one account: one created, both see its sub', async () => {
    const [a, b] = await Promise.all([
      app.registerUser(ctx, { username: 'Alice', password: 'first-password' }),
      app.registerUser(ctx, { username: 'alice', password: 'second-password' }),
    ]);
    expect(a.sub).toBe(b.sub);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    const events = await store.readAll();
    expect(events.filter((e) => e.type === 'username.claimed')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'user.registered')).toHaveLength(1);
  });

  it('registering again is a no-op that answers the existing subject', async () => {
    const first = await app.registerUser(ctx, { username: 'bob', password: 'pw-1' });
    const again = await app.registerUser(ctx, { username: 'bob', password: 'pw-1' });
    expect(again).toEqual({ sub: first.sub, created: false });
    expect((await store.readAll()).length).toBe(2);
  });

  it('the log holds neither the username nor the password', async () => {
    await app.registerUser(ctx, { username: 'carol-the-unique', password: 'hunter2-unique' });
    const log = JSON.stringify(await store.readAll());
    expect(log).toContain('username.claimed');
    expect(log).not.toContain('carol-the-unique');
    expect(log).not.toContain('hunter2-unique');
  });
});
