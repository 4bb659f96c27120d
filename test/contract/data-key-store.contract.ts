import { DataKeyDestroyedError, type DataKeyStore } from '../../infra/crypto/data-keys/port.js';

/** The behaviour every DataKeyStore adapter must have. The factory runs once per test. */
export function describeDataKeyStoreContract(name: string, factory: () => Promise<DataKeyStore> | DataKeyStore): void {
  describe(`DataKeyStore contract: ${name}`, () => {
    let store: DataKeyStore;
    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await store.close();
    });

    test('getOrCreate returns a 32-byte key, the same one every time', async () => {
      const key = await store.getOrCreate('acme', 'user-1');
      expect(key).toHaveLength(32);
      expect(await store.getOrCreate('acme', 'user-1')).toEqual(key);
      expect(await store.get('acme', 'user-1')).toEqual(key);
    });

    test('get returns undefined for a subject without a key, and does not create one', async () => {
      expect(await store.get('acme', 'nobody')).toBeUndefined();
      expect(await store.get('acme', 'nobody')).toBeUndefined();
    });

    test('keys differ per subject and per tenant', async () => {
      const a = await store.getOrCreate('acme', 'user-1');
      const b = await store.getOrCreate('acme', 'user-2');
      const c = await store.getOrCreate('other', 'user-1');
      expect(a).not.toEqual(b);
      expect(a).not.toEqual(c);
      expect(b).not.toEqual(c);
      expect(await store.get('other', 'user-2')).toBeUndefined();
    });

    test('(tenant, subject) pairs that concatenate alike stay apart', async () => {
      const a = await store.getOrCreate('ab', 'c');
      expect(await store.get('a', 'bc')).toBeUndefined();
      expect(await store.getOrCreate('a', 'bc')).not.toEqual(a);
    });

    test('concurrent getOrCreate calls for one subject agree on the key', async () => {
      const keys = await Promise.all(Array.from({ length: 10 }, () => store.getOrCreate('acme', 'user-1')));
      for (const key of keys) expect(key).toEqual(keys[0]);
    });

    test('changing a returned buffer does not change the stored key', async () => {
      const key = await store.getOrCreate('acme', 'user-1');
      const copy = Buffer.from(key);
      key.fill(0);
      expect(await store.get('acme', 'user-1')).toEqual(copy);
    });

    test('after destroy, get returns undefined and getOrCreate refuses to make a new key', async () => {
      await store.getOrCreate('acme', 'user-1');
      const kept = await store.getOrCreate('acme', 'user-2');
      await store.destroy('acme', 'user-1');
      expect(await store.get('acme', 'user-1')).toBeUndefined();
      await expect(store.getOrCreate('acme', 'user-1')).rejects.toBeInstanceOf(DataKeyDestroyedError);
      expect(await store.get('acme', 'user-1')).toBeUndefined();
      expect(await store.get('acme', 'user-2')).toEqual(kept);
    });

    test('destroy only affects its own tenant', async () => {
      const kept = await store.getOrCreate('other', 'user-1');
      await store.getOrCreate('acme', 'user-1');
      await store.destroy('acme', 'user-1');
      expect(await store.get('other', 'user-1')).toEqual(kept);
    });

    test('destroy is idempotent and also bars a subject that never had a key', async () => {
      await store.destroy('acme', 'ghost');
      await store.destroy('acme', 'ghost');
      expect(await store.get('acme', 'ghost')).toBeUndefined();
      await expect(store.getOrCreate('acme', 'ghost')).rejects.toThrow(DataKeyDestroyedError);
    });

    test('the error names the destroyed subject', async () => {
      await store.destroy('acme', 'user-1');
      await expect(store.getOrCreate('acme', 'user-1')).rejects.toMatchObject({
        name: 'DataKeyDestroyedError',
        tenant: 'acme',
        subject: 'user-1',
      });
    });
  });
}
