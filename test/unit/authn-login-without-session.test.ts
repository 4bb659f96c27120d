import { passwordVerifications } from '../../infra/metrics/metrics.js';
import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { Login } from '../../contracts/messages/authn.js';
import { serve } from '../../infra/bus/typed.js';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { FREE_ATTEMPTS } from '../../services/authn/domain/user/user.js';
import { AuthnApp } from '../../services/authn/app/authn.app.js';

/**
 * A login without a session (`startSession: false`, for the password grant, RFC 6749 §4.3): the
 * password is checked and the authentication recorded as for the login form, no session stream
 * is written and the reply carries the authentication's facts with `session: null`.
 */
const ctx: RequestContext = { tenant: 'default', correlationId: 'c', causationId: null, actor: { kind: 'client', id: 'legacy-app' } };
const FAST_ARGON2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const T0 = new Date('2025-06-01T12:00:00.000Z');

describe('authn: login without a session (password grant)', () => {
  let store: InMemoryEventStore;
  let app: AuthnApp;
  let now: Date;
  /** The login bus message as the authn service serves it: parsed at the edge, both ways. */
  const login = (request: Record<string, unknown>) =>
    serve(Login, { ctx, ...request }, (r) => app.login(r.ctx, r), (error) => {
      throw error;
    });

  beforeEach(async () => {
    store = new InMemoryEventStore();
    now = T0;
    app = new AuthnApp({
      store,
      projections: new InMemoryProjectionStore(),
      dataKeys: new InMemoryDataKeyStore(randomBytes(32)),
      usernameKey: randomBytes(32),
      loginSourceKey: randomBytes(32),
      sessionTtlSeconds: 60,
      argon2: FAST_ARGON2,
      clock: () => now,
    });
    await app.registerUser(ctx, { username: 'erin', password: 'hunter2-but-longer' });
  });

  const types = async () => (await store.readAll()).map((e) => e.type);

  it('answers sub, auth_time, acr and amr with session null, and writes no session stream', async () => {
    const before = (await store.readAll()).length;
    const reply = await login({ username: 'erin', password: 'hunter2-but-longer', clientId: 'legacy-app', startSession: false });
    expect(reply.ok).toBe(true);
    if (!reply.ok || !reply.value.authenticated) throw new Error('expected an authentication');
    const { sub } = (await store.readAll()).find((e) => e.type === 'user.registered')!.data as { sub: string };
    expect(reply.value).toEqual({ authenticated: true, sub, authTime: T0.getTime() / 1000, acr: '0', amr: ['pwd'], session: null });
    const appended = (await store.readAll()).slice(before);
    expect(appended.map((e) => e.type)).toEqual(['authentication.succeeded']);
    expect(appended[0]!.data).toEqual({ sub, method: 'pwd', clientId: 'legacy-app' });
    expect(appended.some((e) => e.streamName.startsWith('session-'))).toBe(false);
  });

  it('without the flag a login still starts a session (the login form), with the same facts beside it', async () => {
    const reply = await login({ username: 'erin', password: 'hunter2-but-longer', clientId: 'web' });
    if (!reply.ok || !reply.value.authenticated || !reply.value.session) throw new Error('expected a session');
    expect(reply.value.session.sub).toBe(reply.value.sub);
    expect(reply.value.session.authTime).toBe(reply.value.authTime);
    expect(reply.value.sessionToken.startsWith(`${reply.value.session.sessionId}.`)).toBe(true);
    expect(await types()).toContain('session.started');
  });

  it('a wrong password is refused and recorded as for the login form; nothing else is written', async () => {
    const before = (await store.readAll()).length;
    const reply = await login({ username: 'erin', password: 'wrong', clientId: 'legacy-app', startSession: false });
    expect(reply).toEqual({ ok: true, value: { authenticated: false } });
    expect((await types()).slice(before)).toEqual(['authentication.failed']);
  });

  it('an unknown username gets the same answer and writes nothing', async () => {
    const before = (await store.readAll()).length;
    const reply = await login({ username: 'nobody', password: 'x', clientId: 'legacy-app', startSession: false });
    expect(reply).toEqual({ ok: true, value: { authenticated: false } });
    expect((await store.readAll()).length).toBe(before);
  });

  it('does not bypass the throttle: within its wait even the right password is refused, unchecked, unrecorded, at the cost of one argon2 run', async () => {
    for (let i = 0; i < FREE_ATTEMPTS; i++) {
      await login({ username: 'erin', password: `guess-${i}`, clientId: 'legacy-app', startSession: false });
    }
    const before = (await store.readAll()).length;
    const verifications = (await passwordVerifications.get()).values[0]?.value ?? 0;
    const reply = await login({ username: 'erin', password: 'hunter2-but-longer', clientId: 'legacy-app', startSession: false });
    expect(reply).toEqual({ ok: true, value: { authenticated: false } });
    expect((await store.readAll()).length).toBe(before);
    // A throttled attempt costs what a checked one does: one verification (of the decoy hash).
    expect(((await passwordVerifications.get()).values[0]?.value ?? 0) - verifications).toBe(1);
    now = new Date(T0.getTime() + 2_000);
    const later = await login({ username: 'erin', password: 'hunter2-but-longer', clientId: 'legacy-app', startSession: false });
    expect(later.ok && later.value.authenticated).toBe(true);
  });

  it.each([['a string', 'false'], ['a number', 0], ['null', null]])(
    'startSession as %s is invalid_request at the bus edge, and nothing is appended',
    async (_name, startSession) => {
      const before = (await store.readAll()).length;
      const reply = await login({ username: 'erin', password: 'hunter2-but-longer', clientId: 'legacy-app', startSession });
      expect(reply.ok).toBe(false);
      if (!reply.ok) expect(reply.error.code).toBe('invalid_request');
      expect((await store.readAll()).length).toBe(before);
    },
  );
});
