import argon2 from 'argon2';
import { DEFAULT_ARGON2, hashPassword, needsRehash, verifyPassword } from '../../infra/crypto/passwords.js';
import { loadEmbeddedConfig } from '../../services/embedded/config.js';

describe('password hashing (argon2id)', () => {
  it("hashes with OWASP's recommended setting by default (m=19 MiB, t=2, p=1), the parameters in the hash", async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(await verifyPassword(hash, 'correct horse')).toBe(true);
    expect(await verifyPassword(hash, 'wrong horse')).toBe(false);
  });

  it('hashes with configured parameters, and still verifies hashes made under others', async () => {
    const hash = await hashPassword('pw', { memoryCost: 8 * 1024, timeCost: 1, parallelism: 2 });
    expect(hash).toMatch(/\$m=8192,p=2,t=1\$/);
    const older = await argon2.hash('pw', { type: argon2.argon2id, memoryCost: 65536, timeCost: 3, parallelism: 4 });
    expect(await verifyPassword(older, 'pw')).toBe(true);
  });

  it('takes the parameters from the environment, refusing unsafe ones', () => {
    const base = { IDP_DEMO: 'off' };
    expect(loadEmbeddedConfig(base).argon2).toEqual(DEFAULT_ARGON2);
    expect(loadEmbeddedConfig({ ...base, IDP_ARGON2_MEMORY_KIB: '65536', IDP_ARGON2_TIME_COST: '3', IDP_ARGON2_PARALLELISM: '4' }).argon2).toEqual({
      memoryCost: 65536,
      timeCost: 3,
      parallelism: 4,
    });
    expect(() => loadEmbeddedConfig({ ...base, IDP_ARGON2_MEMORY_KIB: '1024' })).toThrow(/IDP_ARGON2_MEMORY_KIB/);
    expect(() => loadEmbeddedConfig({ ...base, IDP_ARGON2_TIME_COST: '0' })).toThrow(/IDP_ARGON2_TIME_COST/);
  });

  it('tells a hash made otherwise than the configured parameters (memory, time, parallelism, variant) from a current one', async () => {
    const params = { memoryCost: 8 * 1024, timeCost: 1, parallelism: 1 };
    const current = await hashPassword('pw', params);
    expect(needsRehash(current, params)).toBe(false);
    expect(needsRehash(current, { ...params, memoryCost: 16 * 1024 })).toBe(true);
    expect(needsRehash(current, { ...params, timeCost: 2 })).toBe(true);
    expect(needsRehash(current, { ...params, parallelism: 2 })).toBe(true);
    expect(needsRehash(await hashPassword('pw'), params)).toBe(true);
    expect(needsRehash(await hashPassword('pw'), DEFAULT_ARGON2)).toBe(false);
    const argon2i = await argon2.hash('pw', { type: argon2.argon2i, ...params });
    expect(needsRehash(argon2i, params)).toBe(true);
  });
});
