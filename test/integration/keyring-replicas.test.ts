import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { streams } from '../../contracts/streams.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { Keyring, type KeyringPolicy } from '../../services/token-issuer/app/keyring.js';

/**
 * Two token-issuer replicas, each with its own Keyring over one log (DESIGN §7): what one
 * appends (a rotation, a revocation), the other follows within about a second, without restart.
 * Against the in-memory store (one object) and SQLite (two connections to one file, as two
 * processes have).
 */

const admin = (): RequestContext => ({ tenant: 'default', correlationId: randomUUID(), causationId: null, actor: { kind: 'admin', id: 'ops' } });
const POLICY: KeyringPolicy = { activationDelaySeconds: 2, retentionSeconds: 3600, refreshIntervalMs: 1000 };

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function sign(keyring: Keyring): Promise<{ token: string; kid: string }> {
  const signer = await keyring.signer(admin(), 'ES256');
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: signer.kid }).setIssuedAt().sign(signer.key);
  return { token, kid: signer.kid };
}

async function verifies(keyring: Keyring, token: string): Promise<boolean> {
  const { kid } = decodeProtectedHeader(token);
  const found = kid === undefined ? undefined : await keyring.publicKey(admin(), kid);
  if (!found) return false;
  await jwtVerify(token, found.key);
  return true;
}

const jwksKids = async (keyring: Keyring) => (await keyring.jwks(admin())).map((k) => k.kid);

describe.each([
  ['in-memory store', () => {
    const store = new InMemoryEventStore();
    return { first: store as EventStore, second: store as EventStore, close: async () => store.close() };
  }],
  ['SQLite, two connections', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyring-replicas-'));
    const first = SqliteEventStore.open(path.join(dir, 'idp.db'));
    const second = SqliteEventStore.open(path.join(dir, 'idp.db'));
    return {
      first: first as EventStore,
      second: second as EventStore,
      close: async () => {
        await first.close();
        await second.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }],
])('keyring replicas over the %s', (_name, open) => {
  let stores: ReturnType<typeof open>;
  let a: Keyring;
  let b: Keyring;
  beforeAll(() => {
    stores = open();
    const sealingKey = randomBytes(32);
    a = new Keyring(stores.first, sealingKey, POLICY);
    b = new Keyring(stores.second, sealingKey, POLICY);
  });
  afterAll(async () => stores.close());

  test('rotation: the next key is in both replicas\' JWKS before either signs with it; then both sign with it, and the old key still verifies', async () => {
    const before = await sign(a);
    expect((await sign(b)).kid).toBe(before.kid); // both loaded the same keyring (the first start generated it once)
    expect((await stores.first.readStream(streams.keyring('default'))).events).toHaveLength(2);

    const { generated } = await a.rotate(admin(), 'ES256');
    const next = generated[0]!;
    expect(next).toMatchObject({ alg: 'ES256', state: 'next' });

    // The other replica learns of it by reading the stream again, not by a restart.
    await until('the next key in replica b\'s JWKS', async () => ((await jwksKids(b)).includes(next.kid) ? true : undefined));
    // Every token signed with it is signed at or after its activation, on either replica.
    const switched = await until('both replicas signing with the next key', async () => {
      const [fromA, fromB] = [await sign(a), await sign(b)];
      for (const signed of [fromA, fromB]) {
        if (signed.kid === next.kid) expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(next.activatesAt));
        else expect(signed.kid).toBe(before.kid);
      }
      return fromA.kid === next.kid && fromB.kid === next.kid ? fromB : undefined;
    });
    expect(await verifies(a, switched.token)).toBe(true);
    // The retired key stays in JWKS and verifies what it signed until its tokens expired.
    expect(await jwksKids(b)).toEqual(expect.arrayContaining([before.kid, next.kid]));
    expect(await verifies(b, before.token)).toBe(true);
    expect((await b.list(admin())).find((k) => k.kid === before.kid)).toMatchObject({ state: 'retired', retiredAt: next.activatesAt });
  });

  test('compromise of the active key: out of every replica\'s JWKS and refused within about a second; the replacement signs at once', async () => {
    const active = (await a.list(admin())).find((k) => k.alg === 'ES256' && k.state === 'active')!;
    const signed = await sign(b);
    expect(signed.kid).toBe(active.kid);

    const revoked = await a.revoke(admin(), active.kid);
    if (!revoked.found) throw new Error('the active key was not found');
    expect(revoked.replacement).toMatchObject({ alg: 'ES256', state: 'active' });
    const replacement = revoked.replacement!;
    // No propagation delay for a compromise: service continuity first.
    expect(replacement.activatesAt).toBe(revoked.revoked.revokedAt);
    expect(await verifies(a, signed.token)).toBe(false);
    expect((await sign(a)).kid).toBe(replacement.kid);

    await until('replica b refusing the revoked key', async () => ((await verifies(b, signed.token)) ? undefined : true));
    expect(await jwksKids(b)).not.toContain(active.kid);
    expect(await jwksKids(b)).toContain(replacement.kid);
    expect((await sign(b)).kid).toBe(replacement.kid);
  });

  test('two replicas rotating at once: one next key per algorithm, the other rotation refused', async () => {
    await until('the first next key activated', async () => ((await a.list(admin())).some((k) => k.state === 'next') ? undefined : true));
    const outcomes = await Promise.allSettled([a.rotate(admin(), 'RS256'), b.rotate(admin(), 'RS256')]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { code: 'invalid_request' } });
    expect((await b.list(admin())).filter((k) => k.alg === 'RS256' && k.state === 'next')).toHaveLength(1);
  });

  test('two replicas revoking the same active key at once: revoked once, one replacement, the other refused', async () => {
    const target = (await a.list(admin())).find((k) => k.alg === 'ES256' && k.state === 'active')!;
    const outcomes = await Promise.allSettled([a.revoke(admin(), target.kid), b.revoke(admin(), target.kid)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const keys = await a.list(admin());
    expect(keys.filter((k) => k.alg === 'ES256' && k.state === 'active')).toHaveLength(1);
    const events = (await stores.first.readStream(streams.keyring('default'))).events;
    expect(events.filter((e) => e.type === 'signing_key.revoked' && (e.data as { kid: string }).kid === target.kid)).toHaveLength(1);
  });

  test('a revoked key cannot be revoked again, and an unknown kid is not found; neither appends', async () => {
    const stream = streams.keyring('default');
    const length = (await stores.first.readStream(stream)).events.length;
    const revokedKid = (await a.list(admin())).find((k) => k.state === 'revoked')!.kid;
    await expect(b.revoke(admin(), revokedKid)).rejects.toMatchObject({ code: 'invalid_request' });
    expect(await b.revoke(admin(), 'no-such-kid')).toEqual({ found: false });
    expect((await stores.first.readStream(stream)).events).toHaveLength(length);
  });
});
