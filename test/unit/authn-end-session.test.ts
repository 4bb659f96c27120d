import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { AuthnApp } from '../../services/authn/app/authn.app.js';
import { authnOver } from '../support/authn-under-test.js';

/**
 * Ending a session (the logout's `session.ended`) against real stores: the session stops
 * resolving at once, only its own cookie ends it, and ending it twice records it once.
 */
const ctx: RequestContext = { tenant: 'default', correlationId: 'c', causationId: null, actor: { kind: 'system', id: 'test' } };

describe.each([
  ['in-memory', () => ({ store: new InMemoryEventStore() as EventStore, cleanup: () => {} })],
  [
    'SQLite',
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-end-session-'));
      return { store: SqliteEventStore.open(path.join(dir, 'log.db')) as EventStore, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  ],
])('EndSession on %s', (_name, open) => {
  let store: EventStore;
  let cleanup: () => void;
  let app: AuthnApp;
  beforeAll(async () => {
    ({ store, cleanup } = open());
    app = authnOver(store);
    await app.registerUser(ctx, { username: 'eve', password: 'pw-eve' });
  });
  afterAll(async () => {
    await store.close();
    cleanup();
  });

  async function login(): Promise<string> {
    const result = await app.login(ctx, { username: 'eve', password: 'pw-eve', clientId: 'rp' });
    if (!result.authenticated || !result.session) throw new Error('login failed');
    return result.sessionToken;
  }

  const endedEvents = async () => (await store.readAll()).filter((e) => e.type === 'session.ended');

  test('the cookie holder ends the session: session.ended is recorded and the session no longer resolves', async () => {
    const token = await login();
    const session = await app.resolveSession(ctx, token);
    expect(session).not.toBeNull();
    const before = (await endedEvents()).length;

    const result = await app.endSession(ctx, { sessionToken: token, reason: 'rp_initiated_logout', clientId: 'rp' });

    expect(result).toEqual({ ended: true, sessionId: session!.sessionId, sub: session!.sub });
    expect(await app.resolveSession(ctx, token)).toBeNull();
    const ended = (await endedEvents()).slice(before);
    expect(ended.map((e) => e.data)).toEqual([{ sessionId: session!.sessionId, sub: session!.sub, reason: 'rp_initiated_logout', clientId: 'rp' }]);
    expect(ended[0]!.streamName).toBe(`session-default-${session!.sessionId}`);
  });

  test('ending it again, or twice at once, records one session.ended', async () => {
    const token = await login();
    const before = (await endedEvents()).length;
    const results = await Promise.all([1, 2, 3].map(() => app.endSession(ctx, { sessionToken: token, reason: 'user_logout', clientId: null })));
    expect(results.filter((r) => r.ended)).toHaveLength(1);
    expect(await app.endSession(ctx, { sessionToken: token, reason: 'user_logout', clientId: null })).toMatchObject({ ended: false });
    expect((await endedEvents()).length - before).toBe(1);
  });

  test('a wrong secret, a malformed or unknown token end nothing and record nothing', async () => {
    const token = await login();
    const before = (await store.readAll()).length;
    const sessionId = token.slice(0, token.indexOf('.'));
    for (const sessionToken of [`${sessionId}.wrong-secret`, 'garbage', `.${token}`, `00000000-0000-4000-8000-000000000000.x`, `${sessionId}`]) {
      expect(await app.endSession(ctx, { sessionToken, reason: 'user_logout', clientId: null })).toEqual({ ended: false, sessionId: null, sub: null });
    }
    expect((await store.readAll()).length).toBe(before);
    expect(await app.resolveSession(ctx, token)).not.toBeNull();
  });
});
