import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { UserEvent } from '../../contracts/events/user.js';
import { streams } from '../../contracts/streams.js';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import type { DataKeyStore } from '../../infra/crypto/data-keys/port.js';
import { SqliteDataKeyStore } from '../../infra/crypto/data-keys/sqlite.js';
import { sealJson, type Sealed } from '../../infra/crypto/envelope.js';
import { hashPassword, verifyPassword, type Argon2Parameters } from '../../infra/crypto/passwords.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { AuthnApp } from '../../services/authn/app/authn.app.js';
import { openPasswordHash } from '../../services/authn/app/password-hashes.js';
import { AUTHN_CHECKPOINT, authnProjections } from '../../services/authn/projections/authn.projections.js';
import { handleCommand } from '../../services/shared/app/command-handler.js';
import { accept, type Decider } from '../../services/shared/domain/decider.js';

/**
 * Issue 10 point 4: password hashes sealed under the user's data key, on the real in-memory and
 * SQLite stores (log and data keys). New registrations and rehashes record only the sealed hash;
 * a user registered by an older version (a plaintext `user.registered` v1) still logs in, and that
 * login replaces the hash by a sealed one; once the data key is destroyed, nobody logs in as that
 * user (a refusal like a wrong password, nothing recorded) and the sealed hash cannot be read.
 */
const ctx: RequestContext = { tenant: 'default', correlationId: 'c', causationId: null, actor: { kind: 'admin', id: 'test' } };
const ARGON2: Argon2Parameters = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const PASSWORD = `pw-${randomBytes(12).toString('base64url')}`;
const PHC_PREFIX = '$argon2id$';

/** A registrar as older versions wrote users: the PHC string in plaintext (`user.registered` v1). */
const legacyRegistrar: Decider<null, UserEvent, UserEvent> = {
  initialState: () => null,
  evolve: (state) => state,
  decide: (event) => accept(event),
};

describe.each([
  ['in-memory', () => ({ store: new InMemoryEventStore() as EventStore, dataKeys: new InMemoryDataKeyStore(randomBytes(32)) as DataKeyStore, cleanup: () => {} })],
  [
    'SQLite',
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-sealed-'));
      return {
        store: SqliteEventStore.open(path.join(dir, 'idp.db')) as EventStore,
        dataKeys: SqliteDataKeyStore.open(path.join(dir, 'data-keys.db'), randomBytes(32)) as DataKeyStore,
        cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
])('authn: password hashes sealed under the data key (%s)', (_name, open) => {
  let store: EventStore;
  let dataKeys: DataKeyStore;
  let cleanup: () => void;
  let projections: InMemoryProjectionStore;
  let app: AuthnApp;

  beforeEach(() => {
    ({ store, dataKeys, cleanup } = open());
    projections = new InMemoryProjectionStore();
    app = new AuthnApp({ store, projections, dataKeys, usernameKey: randomBytes(32), loginSourceKey: randomBytes(32), sessionTtlSeconds: 60, argon2: ARGON2 });
  });
  afterEach(async () => {
    await store.close();
    await dataKeys.close();
    cleanup();
  });

  const userEvents = async (sub: string) => (await store.readStream(streams.user('default', sub))).events;
  const logText = async () => JSON.stringify(await store.readAll());
  const login = (username: string, password = PASSWORD, startSession = true) =>
    app.login(ctx, { username, password, clientId: 'web', startSession });

  /** A user as a version before sealing registered them, with the same write-through projections. */
  async function registerLegacyUser(username: string): Promise<{ sub: string; phc: string }> {
    const sub = randomUUID();
    const dataKey = await dataKeys.getOrCreate('default', sub);
    const phc = await hashPassword(PASSWORD, ARGON2);
    const event: UserEvent = {
      type: 'user.registered',
      schemaVersion: 1,
      data: {
        sub,
        usernameDigest: app.usernameDigest('default', username),
        passwordHash: phc,
        profile: sealJson(dataKey, { preferred_username: username }, `default:${sub}`),
      },
    };
    await handleCommand(
      { store, service: 'authn', projections: { store: projections, project: authnProjections, checkpoint: AUTHN_CHECKPOINT } },
      { streamName: streams.user('default', sub), decider: legacyRegistrar, schema: UserEvent, command: event, ctx },
    );
    return { sub, phc };
  }

  it('a registration records user.registered v2: the hash only sealed, under the user\'s data key, and it verifies', async () => {
    const username = `ada-${randomUUID()}`;
    const { sub } = await app.registerUser(ctx, { username, password: PASSWORD });
    const [registered] = await userEvents(sub);
    expect(registered).toMatchObject({ type: 'user.registered', schemaVersion: 2 });
    expect(registered!.data).not.toHaveProperty('passwordHash');
    expect(await logText()).not.toContain(PHC_PREFIX);
    const sealed = (registered!.data as { sealedPasswordHash: Sealed }).sealedPasswordHash;
    const ownKey = (await dataKeys.get('default', sub))!;
    const phc = openPasswordHash(ownKey, 'default', sub, { kind: 'sealed', sealed });
    expect(phc.startsWith(PHC_PREFIX)).toBe(true);
    expect(await verifyPassword(phc, PASSWORD)).toBe(true);
    // Bound to its owner and purpose: it does not open as another user's, nor as the profile.
    const other = await dataKeys.getOrCreate('default', 'someone-else');
    expect(() => openPasswordHash(other, 'default', sub, { kind: 'sealed', sealed })).toThrow();
    expect(() => openPasswordHash(ownKey, 'default', 'someone-else', { kind: 'sealed', sealed })).toThrow();
    expect((await login(username)).authenticated).toBe(true);
    expect((await login(username, 'wrong')).authenticated).toBe(false);
  });

  it('existing logs: a v1 user still logs in, and that login rehashes and seals the hash (user.password_rehashed v2); the v1 event stays', async () => {
    const username = `bea-${randomUUID()}`;
    const { sub, phc } = await registerLegacyUser(username);
    expect((await login(username, 'wrong')).authenticated).toBe(false);
    expect((await login(username)).authenticated).toBe(true);
    const events = await userEvents(sub);
    expect(events.map((e) => `${e.type}@${e.schemaVersion}`)).toEqual([
      'user.registered@1',
      'authentication.failed@2',
      'authentication.succeeded@2',
      'user.password_rehashed@2',
    ]);
    const sealed = (events[3]!.data as { sealedPasswordHash: Sealed }).sealedPasswordHash;
    const resealed = openPasswordHash((await dataKeys.get('default', sub))!, 'default', sub, { kind: 'sealed', sealed });
    // A new hash (a new salt), not the one the old event shows in plaintext.
    expect(resealed).not.toBe(phc);
    expect(await verifyPassword(resealed, PASSWORD)).toBe(true);
    // The append-only log keeps the old plaintext hash: it is history, no longer the live one.
    expect((await logText()).split(PHC_PREFIX)).toHaveLength(2);

    // The next login uses the sealed hash and rehashes nothing.
    expect((await login(username)).authenticated).toBe(true);
    expect((await login(username, 'wrong')).authenticated).toBe(false);
    expect((await userEvents(sub)).filter((e) => e.type === 'user.password_rehashed')).toHaveLength(1);
  });

  it.each([
    ['sealed (v2)', false],
    ['plaintext (v1, never logged in since)', true],
  ])('after the data key is destroyed, a user whose hash is %s cannot log in: refused like a wrong password, nothing recorded', async (_kind, legacy) => {
    const username = `cid-${randomUUID()}`;
    const sub = legacy ? (await registerLegacyUser(username)).sub : (await app.registerUser(ctx, { username, password: PASSWORD })).sub;
    // (A v1 user's first successful login would seal the hash: that one has not logged in since.)
    if (!legacy) expect((await login(username)).authenticated).toBe(true);
    const before = (await store.readAll()).length;
    await dataKeys.destroy('default', sub);

    for (const startSession of [true, false]) {
      expect(await login(username, PASSWORD, startSession)).toEqual({ authenticated: false });
      expect(await login(username, 'wrong', startSession)).toEqual({ authenticated: false });
    }
    // Refused unchecked: no failure, success, rehash or session recorded for a forgotten user.
    expect(await store.readAll()).toHaveLength(before);
    expect(await dataKeys.get('default', sub)).toBeUndefined();
    // The sealed hashes in the log no longer open: no key, and no other key opens them.
    for (const event of await userEvents(sub)) {
      const sealed = (event.data as { sealedPasswordHash?: Sealed }).sealedPasswordHash;
      if (!sealed) continue;
      expect(() => openPasswordHash(randomBytes(32), 'default', sub, { kind: 'sealed', sealed })).toThrow();
    }
    // Registering the name again does not bring the account back.
    expect((await app.registerUser(ctx, { username, password: PASSWORD })).created).toBe(false);
    expect((await login(username)).authenticated).toBe(false);
  });
});
