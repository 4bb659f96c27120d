import { EncryptJWT, jwtDecrypt } from 'jose';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openJson, sealJson, SealedSchema, type Sealed } from '../../infra/crypto/envelope.js';
import { deriveKey, loadOrCreateKekFile, parseKek } from '../../infra/crypto/kek.js';
import { SealedTokens } from '../../infra/crypto/sealed-token.js';
import { constantTimeEqual, randomSecret, sha256Hex } from '../../infra/crypto/secrets.js';

const key = (fill: number) => Buffer.alloc(32, fill);

describe('secrets', () => {
  test('randomSecret is base64url of the requested length and differs each call', () => {
    const a = randomSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(Buffer.from(randomSecret(16), 'base64url')).toHaveLength(16);
    expect(randomSecret()).not.toBe(a);
  });

  test('sha256Hex matches the known digest for strings and buffers', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256Hex('abc')).toBe(abc);
    expect(sha256Hex(Buffer.from('abc'))).toBe(abc);
  });

  test('constantTimeEqual compares content, including different lengths', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('secret', 'secret2')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('', 'x')).toBe(false);
  });
});

describe('KEK', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kek-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('parseKek accepts exactly 32 bytes of base64url and rejects anything else', () => {
    const kek = key(7);
    expect(parseKek(kek.toString('base64url'))).toEqual(kek);
    expect(parseKek(`${kek.toString('base64url')}\n`)).toEqual(kek);
    expect(() => parseKek(Buffer.alloc(31).toString('base64url'))).toThrow(/32 bytes/);
    expect(() => parseKek(Buffer.alloc(33).toString('base64url'))).toThrow(/32 bytes/);
    expect(() => parseKek('')).toThrow(/32 bytes/);
    expect(() => parseKek(`${kek.toString('base64url').slice(0, -1)}!`)).toThrow(/32 bytes/);
  });

  test('loadOrCreateKekFile creates the file (and its directory) with mode 0600, then reuses it', () => {
    const path = join(dir, 'nested', 'kek');
    const created = loadOrCreateKekFile(path);
    expect(created).toHaveLength(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(parseKek(readFileSync(path, 'utf8'))).toEqual(created);
    expect(loadOrCreateKekFile(path)).toEqual(created);
  });

  test('threads racing to create the KEK file all end up with the same KEK', async () => {
    const path = join(dir, 'race', 'kek');
    const go = new Int32Array(new SharedArrayBuffer(4));
    const moduleUrl = new URL('../../infra/crypto/kek.js', import.meta.url).href;
    const runs = Array.from({ length: 6 }, () => {
      const worker = new Worker(KEK_RACE_WORKER, { eval: true, workerData: { moduleUrl, path, go } });
      const ready = new Promise<void>((resolve) => worker.once('message', () => resolve()));
      const kek = new Promise<string>((resolve, reject) => {
        worker.once('error', reject);
        worker.on('message', (msg: unknown) => {
          if (msg !== 'ready') resolve(String(msg));
        });
      });
      return { ready, kek };
    });
    await Promise.all(runs.map((r) => r.ready));
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    const keks = await Promise.all(runs.map((r) => r.kek));
    const onDisk = parseKek(readFileSync(path, 'utf8')).toString('hex');
    expect(keks).toEqual(keks.map(() => onDisk));
  });

  test('loadOrCreateKekFile reads an existing KEK file', () => {
    const path = join(dir, 'kek');
    writeFileSync(path, key(9).toString('base64url'), { mode: 0o600 });
    expect(loadOrCreateKekFile(path)).toEqual(key(9));
  });

  test('loadOrCreateKekFile rejects a file readable by group or others', () => {
    const path = join(dir, 'kek');
    writeFileSync(path, key(9).toString('base64url'), { mode: 0o600 });
    chmodSync(path, 0o644);
    expect(() => loadOrCreateKekFile(path)).toThrow(/chmod 600/);
    chmodSync(path, 0o640);
    expect(() => loadOrCreateKekFile(path)).toThrow(/chmod 600/);
  });

  test('loadOrCreateKekFile rejects a file that does not hold a KEK', () => {
    const path = join(dir, 'kek');
    writeFileSync(path, 'not a key', { mode: 0o600 });
    expect(() => loadOrCreateKekFile(path)).toThrow(/32 bytes/);
  });

  test('deriveKey: deterministic, 32 bytes, different per label and per KEK', () => {
    const signing = deriveKey(key(1), 'signing-keys');
    expect(signing).toHaveLength(32);
    expect(deriveKey(key(1), 'signing-keys')).toEqual(signing);
    expect(deriveKey(key(1), 'data-keys')).not.toEqual(signing);
    expect(deriveKey(key(1), 'authz-cookie')).not.toEqual(deriveKey(key(1), 'session-cookie'));
    expect(deriveKey(key(2), 'signing-keys')).not.toEqual(signing);
    expect(signing).not.toEqual(key(1));
  });

  test('deriveKey rejects a KEK of the wrong size', () => {
    expect(() => deriveKey(Buffer.alloc(16), 'data-keys')).toThrow(/32 bytes/);
  });
});

// Waits for the starting signal, then loads or creates the KEK file and reports the KEK in hex.
const KEK_RACE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { moduleUrl, path, go } = workerData;
  const { loadOrCreateKekFile } = await import(moduleUrl);
  parentPort.postMessage('ready');
  Atomics.wait(go, 0, 0);
  parentPort.postMessage(loadOrCreateKekFile(path).toString('hex'));
})();
`;

describe('envelope', () => {
  const value = { email: 'ada@example.com', name: 'Ada', tags: ['a', 1, null] };

  test('round-trips a JSON value, with and without aad', () => {
    expect(openJson(key(1), sealJson(key(1), value))).toEqual(value);
    expect(openJson(key(1), sealJson(key(1), value, 'user-1'), 'user-1')).toEqual(value);
    expect(openJson(key(1), sealJson(key(1), 'just a string'))).toBe('just a string');
  });

  test('produces a valid Sealed without plaintext, with a fresh iv each time', () => {
    const a = sealJson(key(1), value);
    const b = sealJson(key(1), value);
    expect(SealedSchema.parse(a)).toEqual(a);
    expect(a.alg).toBe('A256GCM');
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
    expect(JSON.stringify(a)).not.toContain('ada@example.com');
    expect(Buffer.from(a.ct, 'base64url').toString('utf8')).not.toContain('ada');
  });

  test('detects tampering with ciphertext, tag or iv', () => {
    const sealed = sealJson(key(1), value);
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString('base64url');
    };
    expect(() => openJson(key(1), { ...sealed, ct: flip(sealed.ct) })).toThrow();
    expect(() => openJson(key(1), { ...sealed, tag: flip(sealed.tag) })).toThrow();
    expect(() => openJson(key(1), { ...sealed, iv: flip(sealed.iv) })).toThrow();
  });

  test('rejects a truncated tag', () => {
    const sealed = sealJson(key(1), value);
    const short = Buffer.from(sealed.tag, 'base64url').subarray(0, 4).toString('base64url');
    expect(() => openJson(key(1), { ...sealed, tag: short })).toThrow();
  });

  test('fails with the wrong key or the wrong aad', () => {
    const sealed = sealJson(key(1), value, 'user-1');
    expect(() => openJson(key(2), sealed, 'user-1')).toThrow();
    expect(() => openJson(key(1), sealed, 'user-2')).toThrow();
    expect(() => openJson(key(1), sealed)).toThrow();
    expect(() => openJson(key(1), sealJson(key(1), value), 'user-1')).toThrow();
  });

  test('rejects keys that are not 32 bytes and values that are not JSON', () => {
    expect(() => sealJson(Buffer.alloc(16), value)).toThrow(/32 bytes/);
    expect(() => sealJson(key(1), undefined)).toThrow(TypeError);
  });

  test('SealedSchema rejects malformed objects', () => {
    const sealed = sealJson(key(1), value);
    expect(SealedSchema.safeParse({ ...sealed, alg: 'A128GCM' }).success).toBe(false);
    expect(SealedSchema.safeParse({ ...sealed, iv: 'not base64url!' }).success).toBe(false);
    expect(SealedSchema.safeParse({ alg: 'A256GCM', iv: sealed.iv, ct: sealed.ct }).success).toBe(false);
    expect(() => openJson(key(1), { ...sealed, alg: 'none' } as unknown as Sealed)).toThrow();
  });
});

describe('SealedTokens', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
  const authz = new SealedTokens(key(1), 'authz-request');
  const payload = { clientId: 'app', state: 'xyz', scopes: ['openid'] };

  test('opens what it sealed before expiry, as a compact dir/A256GCM JWE', async () => {
    const token = await authz.seal(payload, 600, now);
    expect(token.split('.')).toHaveLength(5);
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
    expect(header).toMatchObject({ alg: 'dir', enc: 'A256GCM' });
    expect(token).not.toContain('xyz');
    expect(await authz.open(token, now)).toEqual(payload);
    expect(await authz.open(token, later(599))).toEqual(payload);
  });

  test('returns null once expired', async () => {
    const token = await authz.seal(payload, 600, now);
    expect(await authz.open(token, later(600))).toBeNull();
    expect(await authz.open(token, later(3600))).toBeNull();
  });

  test('returns null for a tampered token', async () => {
    const token = await authz.seal(payload, 600, now);
    const parts = token.split('.');
    const ct = Buffer.from(parts[3] ?? '', 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 1;
    parts[3] = ct.toString('base64url');
    expect(await authz.open(parts.join('.'), now)).toBeNull();
  });

  test('returns null for a token sealed for another purpose, even under the same key', async () => {
    const session = new SealedTokens(key(1), 'session');
    expect(await authz.open(await session.seal(payload, 600, now), now)).toBeNull();
    expect(await session.open(await authz.seal(payload, 600, now), now)).toBeNull();
  });

  test('a payload cannot override the purpose claim', async () => {
    const session = new SealedTokens(key(1), 'session');
    const token = await session.seal({ ...payload, pur: 'authz-request' }, 600, now);
    expect(await authz.open(token, now)).toBeNull();
  });

  test('returns null under another key and for malformed input', async () => {
    const other = new SealedTokens(key(2), 'authz-request');
    expect(await other.open(await authz.seal(payload, 600, now), now)).toBeNull();
    expect(await authz.open('', now)).toBeNull();
    expect(await authz.open('not-a-token', now)).toBeNull();
    expect(await authz.open('a.b.c.d.e', now)).toBeNull();
  });

  test('rejects a bad key or ttl', async () => {
    expect(() => new SealedTokens(Buffer.alloc(16), 'x')).toThrow(/32 bytes/);
    await expect(authz.seal(payload, 0, now)).rejects.toThrow(RangeError);
  });

  // Sealed and opened in place with node:crypto (issue 12): the format must stay jose's exactly,
  // both ways, so that a cookie sealed before an upgrade still opens after it, and back.
  test('jose opens what it seals, with the same claims, and it opens what jose seals', async () => {
    const token = await authz.seal(payload, 600, now);
    const { payload: claims, protectedHeader } = await jwtDecrypt(token, key(1), { currentDate: now });
    expect(protectedHeader).toEqual({ alg: 'dir', enc: 'A256GCM' });
    expect(claims).toEqual({ ...payload, pur: 'authz-request', iat: now.getTime() / 1000, exp: now.getTime() / 1000 + 600 });
    const iat = now.getTime() / 1000;
    const byJose = await new EncryptJWT({ ...payload, pur: 'authz-request' })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + 600)
      .encrypt(key(1));
    expect(await authz.open(byJose, now)).toEqual(payload);
    expect(await authz.open(byJose, later(600))).toBeNull();
  });

  test('opens only the exact shape it seals: header, empty key, 96-bit IV, 128-bit tag, claims', async () => {
    const parts = (await authz.seal(payload, 600, now)).split('.');
    const variant = (index: number, value: string) => parts.map((part, i) => (i === index ? value : part)).join('.');
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    expect(await authz.open(parts.join('.'), now)).toEqual(payload);
    // Another header, even one jose would take: the AAD changes with it, and it is refused before that.
    expect(await authz.open(variant(0, b64({ enc: 'A256GCM', alg: 'dir' })), now)).toBeNull();
    expect(await authz.open(variant(0, b64({ alg: 'dir', enc: 'A256GCM', zip: 'DEF' })), now)).toBeNull();
    expect(await authz.open(variant(1, 'AAAA'), now)).toBeNull();
    // A truncated tag is refused outright: GCM would otherwise check only as many bytes as given.
    const tag = Buffer.from(parts[4]!, 'base64url');
    expect(await authz.open(variant(4, tag.subarray(0, 12).toString('base64url')), now)).toBeNull();
    expect(await authz.open(variant(4, tag.subarray(0, 4).toString('base64url')), now)).toBeNull();
    expect(await authz.open(variant(2, Buffer.alloc(16).toString('base64url')), now)).toBeNull();
    expect(await authz.open(variant(3, `${parts[3]}!`), now)).toBeNull();
    expect(await authz.open(`${parts.join('.')}.`, now)).toBeNull();
  });

  test('claims that are not a JSON object, or lack iat or exp, do not open', async () => {
    const sealRaw = async (plaintext: string) => {
      const { CompactEncrypt } = await import('jose');
      return new CompactEncrypt(Buffer.from(plaintext)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key(1));
    };
    const exp = now.getTime() / 1000 + 600;
    expect(await authz.open(await sealRaw('[1,2]'), now)).toBeNull();
    expect(await authz.open(await sealRaw('not json'), now)).toBeNull();
    expect(await authz.open(await sealRaw(JSON.stringify({ pur: 'authz-request', exp })), now)).toBeNull();
    expect(await authz.open(await sealRaw(JSON.stringify({ pur: 'authz-request', iat: 1 })), now)).toBeNull();
    expect(await authz.open(await sealRaw(JSON.stringify({ pur: 'authz-request', iat: 1, exp: String(exp) })), now)).toBeNull();
    expect(await authz.open(await sealRaw(JSON.stringify({ pur: 'authz-request', iat: 1, exp })), now)).toEqual({});
  });
});
