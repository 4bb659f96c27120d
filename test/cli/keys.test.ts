import { randomBytes } from 'node:crypto';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { call } from '../../infra/bus/typed.js';
import { ListSigningKeys, RevokeSigningKey, RotateSigningKeys, type SigningKeyView } from '../../contracts/messages/token-issuer.js';
import { streams } from '../../contracts/streams.js';
import { embeddedAdminSession } from '../../services/cli/admin-session.js';
import { EXIT } from '../../services/cli/exit-codes.js';
import { runIdpInProcess } from '../support/cli.js';

/**
 * `idp keys list|rotate [--alg] [--compromised KID]` in-process against an in-memory log, through
 * the token-issuer's own handlers (the embedded admin session): every state, every refusal and
 * its exit code. The real bin against a running server and over NATS: test/e2e/key-rotation.*.
 */

const kek = randomBytes(32);
let store: InMemoryEventStore;
const admin = () =>
  embeddedAdminSession({
    env: { IDP_KEY_ACTIVATION_DELAY_SECONDS: '600' },
    tenant: 'default',
    actorId: 'ops@example',
    eventStore: store,
    dataKeys: new InMemoryDataKeyStore(kek),
    kek,
  });
const idp = (...argv: string[]) => runIdpInProcess(argv, { store, admin });
const listed = async (): Promise<SigningKeyView[]> => JSON.parse((await idp('keys', 'list', '--json')).stdout) as SigningKeyView[];
const keyringEvents = async () => (await store.readStream(streams.keyring('default'))).events;

beforeAll(() => {
  store = new InMemoryEventStore();
});
afterAll(async () => store.close());

describe('idp keys (in-process, in-memory log)', () => {
  it('list: the first keys of the tenant, one active per algorithm, as a table and as JSON', async () => {
    const table = await idp('keys', 'list');
    expect(table).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(table.stdout.split('\n')[0]).toMatch(/^KID\s+ALG\s+STATE\s+CREATED\s+ACTIVATES\s+RETIRED\s+REMOVES\/REVOKED$/);
    const keys = await listed();
    expect(keys.map((k) => [k.alg, k.state])).toEqual([
      ['RS256', 'active'],
      ['ES256', 'active'],
    ]);
    for (const key of keys) {
      expect(table.stdout).toContain(key.kid);
      expect(key).toMatchObject({ retiredAt: null, removesAt: null, revokedAt: null });
      // The first keys sign at once: activated when decided, recorded moments later.
      expect(Date.parse(key.activatesAt)).toBeLessThanOrEqual(Date.parse(key.createdAt));
    }
  });

  it('rotate: a next key per algorithm, activating after IDP_KEY_ACTIVATION_DELAY_SECONDS; the active keys keep signing', async () => {
    const run = await idp('keys', 'rotate', '--json');
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    const reply = JSON.parse(run.stdout) as { generated: SigningKeyView[]; keys: SigningKeyView[] };
    expect(reply.generated.map((k) => [k.alg, k.state])).toEqual([
      ['RS256', 'next'],
      ['ES256', 'next'],
    ]);
    for (const key of reply.generated) {
      // now + 600 s, now being the decision, taken just before the append is stamped.
      const delay = Date.parse(key.activatesAt) - Date.parse(key.createdAt);
      expect(delay).toBeLessThanOrEqual(600_000);
      expect(delay).toBeGreaterThan(590_000);
    }
    expect(reply.keys.filter((k) => k.state === 'active')).toHaveLength(2);
    const appended = (await keyringEvents()).slice(-2);
    expect(appended.map((e) => [e.type, e.schemaVersion])).toEqual([
      ['signing_key.generated', 2],
      ['signing_key.generated', 2],
    ]);
    // The administrator is the actor of record.
    expect(appended[0]!.metadata).toMatchObject({ actor: { kind: 'admin', id: 'ops@example' }, service: 'token-issuer' });
  });

  it('rotate while a next key is pending is refused (exit 4) and appends nothing', async () => {
    const before = (await keyringEvents()).length;
    const again = await idp('keys', 'rotate', '--alg', 'ES256');
    expect(again.code).toBe(EXIT.refused);
    expect(again.stderr).toMatch(/refused: invalid_request: the next ES256 key \S+ is pending until/);
    expect(again.stdout).toBe('');
    expect(await keyringEvents()).toHaveLength(before);
  });

  it('usage errors: an unknown algorithm, --alg with --compromised (exit 2)', async () => {
    expect((await idp('keys', 'rotate', '--alg', 'HS256')).code).toBe(EXIT.usage);
    const both = await idp('keys', 'rotate', '--alg', 'ES256', '--compromised', 'x');
    expect(both.code).toBe(EXIT.usage);
    expect(both.stderr).toMatch(/--alg and --compromised do not go together/);
  });

  it('--compromised with an unknown kid: not found (exit 3), nothing appended', async () => {
    const before = (await keyringEvents()).length;
    const run = await idp('keys', 'rotate', '--compromised', 'no-such-kid');
    expect(run).toMatchObject({ code: EXIT.notFound, stdout: '' });
    expect(run.stderr).toMatch(/no signing key has kid no-such-kid/);
    expect(await keyringEvents()).toHaveLength(before);
  });

  it('--compromised on a next key: revoked alone, the active key keeps signing; a second time is refused (exit 4)', async () => {
    const next = (await listed()).find((k) => k.alg === 'ES256' && k.state === 'next')!;
    const run = await idp('keys', 'rotate', '--compromised', next.kid);
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout).toContain(`revoked ES256 key ${next.kid}`);
    expect(run.stdout).not.toMatch(/signs from now on/);
    const keys = await listed();
    expect(keys.find((k) => k.kid === next.kid)).toMatchObject({ state: 'revoked', revokedAt: expect.any(String) });
    expect(keys.filter((k) => k.alg === 'ES256' && k.state === 'active')).toHaveLength(1);

    const before = (await keyringEvents()).length;
    const twice = await idp('keys', 'rotate', '--compromised', next.kid);
    expect(twice.code).toBe(EXIT.refused);
    expect(twice.stderr).toMatch(/was revoked at/);
    expect(await keyringEvents()).toHaveLength(before);
    // A revoked next key is not pending: the algorithm rotates again.
    expect((await idp('keys', 'rotate', '--alg', 'ES256')).code).toBe(EXIT.ok);
  });

  it('--compromised on the active key: revoked, and a new key of its algorithm signs at once', async () => {
    const active = (await listed()).find((k) => k.alg === 'RS256' && k.state === 'active')!;
    const run = await idp('keys', 'rotate', '--compromised', active.kid, '--json');
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    const reply = JSON.parse(run.stdout) as { revoked: SigningKeyView; replacement: SigningKeyView };
    expect(reply.revoked).toMatchObject({ kid: active.kid, state: 'revoked' });
    expect(reply.replacement).toMatchObject({ alg: 'RS256', state: 'active', activatesAt: reply.revoked.revokedAt });
    const appended = (await keyringEvents()).slice(-2);
    expect(appended.map((e) => e.type)).toEqual(['signing_key.revoked', 'signing_key.generated']);
    expect(appended[0]!.data).toEqual({ kid: active.kid, revokedAt: reply.revoked.revokedAt, reason: 'compromised' });
  });

  it('the keyring messages answer the admin identity only: a service or client context is refused, nothing appended', async () => {
    const session = await admin();
    try {
      const before = (await keyringEvents()).length;
      const asService = { ...session.requestContext(), actor: { kind: 'system' as const, id: 'gateway' } };
      const asClient = { ...session.requestContext(), actor: { kind: 'client' as const, id: 'demo' } };
      for (const ctx of [asService, asClient]) {
        await expect(call(session.bus, ListSigningKeys, { ctx })).rejects.toMatchObject({ code: 'access_denied' });
        await expect(call(session.bus, RotateSigningKeys, { ctx })).rejects.toMatchObject({ code: 'access_denied' });
        await expect(call(session.bus, RevokeSigningKey, { kid: 'x', reason: 'compromised', ctx })).rejects.toMatchObject({ code: 'access_denied' });
      }
      // A reason other than compromise is not a revocation this IdP knows.
      await expect(
        call(session.bus, RevokeSigningKey, { kid: 'x', reason: 'superseded' as 'compromised', ctx: session.requestContext() }),
      ).rejects.toMatchObject({ code: 'invalid_request' });
      expect(await keyringEvents()).toHaveLength(before);
    } finally {
      await session.close();
    }
  });
});
