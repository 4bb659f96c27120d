import { pooledRandomBytes } from '../../infra/crypto/random-pool.js';
import { newUuidV7, randomSecret } from '../../infra/crypto/secrets.js';

/** The pooled CSPRNG bytes (infra/crypto/random-pool.ts): never the same bytes twice, across refills; well-formed ids. */
describe('pooled random bytes', () => {
  it('hands out distinct bytes, across many refills of the pool, and the sizes asked for', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const bytes = pooledRandomBytes(16);
      expect(bytes).toHaveLength(16);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(5000);
    expect(pooledRandomBytes(0)).toHaveLength(0);
    expect(pooledRandomBytes(5000)).toHaveLength(5000);
    expect(() => pooledRandomBytes(-1)).toThrow(RangeError);
  });

  it('a returned buffer is a copy: zeroing it does not zero later ones, and they are not all zero', () => {
    const first = pooledRandomBytes(32);
    first.fill(0);
    const later = Array.from({ length: 100 }, () => pooledRandomBytes(32));
    expect(later.every((b) => b.some((x) => x !== 0))).toBe(true);
  });

  it('secrets are base64url of the bytes asked for; UUIDs are version 7, time-ordered, distinct', () => {
    expect(randomSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const ids = Array.from({ length: 1000 }, () => newUuidV7());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
  });
});
