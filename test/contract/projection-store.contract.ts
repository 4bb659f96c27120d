import type { ProjectionStore, ProjectionWrite } from '../../infra/projections/port.js';

export interface ProjectionStoreFixture {
  store: ProjectionStore;
  cleanup(): Promise<void>;
}

const NOW = 1_700_000_000_000;
const put = (key: string, value: unknown, expiresAt?: number): ProjectionWrite =>
  expiresAt === undefined ? { kind: 'put', key, value } : { kind: 'put', key, value, expiresAt };
const del = (key: string): ProjectionWrite => ({ kind: 'delete', key });

/** The behaviour every ProjectionStore adapter must show. */
export function describeProjectionStoreContract(name: string, factory: () => Promise<ProjectionStoreFixture>): void {
  describe(`ProjectionStore contract: ${name}`, () => {
    let fixture: ProjectionStoreFixture;
    let store: ProjectionStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('gets what was put, and undefined for unknown keys', async () => {
      await store.apply([put('a', { n: 1 }), put('b', 'two')], 1);
      expect(await store.get('a', NOW)).toEqual({ n: 1 });
      expect(await store.get('b', NOW)).toBe('two');
      expect(await store.get('missing', NOW)).toBeUndefined();
    });

    it('applies a put only from a strictly newer position', async () => {
      await store.apply([put('k', 'v5')], 5);
      await store.apply([put('k', 'v4')], 4);
      expect(await store.get('k', NOW)).toBe('v5');
      await store.apply([put('k', 'v5-again')], 5);
      expect(await store.get('k', NOW)).toBe('v5');
      await store.apply([put('k', 'v6')], 6);
      expect(await store.get('k', NOW)).toBe('v6');
    });

    it('applies a delete only from a strictly newer position', async () => {
      await store.apply([put('k', 'v5')], 5);
      await store.apply([del('k')], 4);
      await store.apply([del('k')], 5);
      expect(await store.get('k', NOW)).toBe('v5');
      await store.apply([del('k')], 6);
      expect(await store.get('k', NOW)).toBeUndefined();
    });

    it('keeps a tombstone so an older put cannot resurrect a deleted key', async () => {
      await store.apply([put('k', 'v1')], 1);
      await store.apply([del('k')], 5);
      await store.apply([put('k', 'stale')], 4);
      await store.apply([put('k', 'stale')], 5);
      expect(await store.get('k', NOW)).toBeUndefined();
      await store.apply([put('k', 'fresh')], 6);
      expect(await store.get('k', NOW)).toBe('fresh');
    });

    it('lets the last write to a key win within one event', async () => {
      await store.apply([put('k', 'first'), put('k', 'second')], 1);
      expect(await store.get('k', NOW)).toBe('second');
      await store.apply([put('k', 'third'), del('k')], 2);
      expect(await store.get('k', NOW)).toBeUndefined();
    });

    it('expires entries at their absolute expiry time', async () => {
      await store.apply([put('short', 's', NOW + 1000), put('forever', 'f')], 1);
      expect(await store.get('short', NOW)).toBe('s');
      expect(await store.get('short', NOW + 999)).toBe('s');
      expect(await store.get('short', NOW + 1000)).toBeUndefined();
      expect(await store.get('forever', NOW + 10 ** 12)).toBe('f');
    });

    it('lets a newer put replace or drop an expiry', async () => {
      await store.apply([put('k', 'a', NOW + 10)], 1);
      await store.apply([put('k', 'b')], 2);
      expect(await store.get('k', NOW + 20)).toBe('b');
      await store.apply([put('k', 'c', NOW + 10)], 3);
      expect(await store.get('k', NOW + 20)).toBeUndefined();
    });

    it('starts checkpoints at 0 and only moves them forward', async () => {
      expect(await store.checkpoint('p')).toBe(0);
      await store.apply([put('a', 1)], 5, 'p');
      expect(await store.checkpoint('p')).toBe(5);
      await store.apply([], 3, 'p');
      expect(await store.checkpoint('p')).toBe(5);
      await store.apply([], 7, 'p');
      expect(await store.checkpoint('p')).toBe(7);
      expect(await store.checkpoint('other')).toBe(0);
    });

    it('advances a checkpoint with an empty write list', async () => {
      await store.apply([], 4, 'p');
      expect(await store.checkpoint('p')).toBe(4);
    });

    it('does not move any checkpoint when applying without a checkpoint name', async () => {
      await store.apply([], 2, 'p');
      await store.apply([put('a', 1)], 9);
      expect(await store.checkpoint('p')).toBe(2);
      expect(await store.get('a', NOW)).toBe(1);
    });

    it('gives a 64-hex digest that does not depend on write order or positions', async () => {
      await store.apply([put('a', { x: 1, y: [1, 2] }), put('b', 'B', NOW + 1000)], 1);
      const first = await store.digest(NOW);
      expect(first).toMatch(/^[0-9a-f]{64}$/);

      await store.clear();
      await store.apply([put('b', 'B', NOW + 1000)], 10);
      await store.apply([put('a', { y: [1, 2], x: 1 })], 20);
      expect(await store.digest(NOW)).toBe(first);
    });

    it('leaves expired and deleted entries out of the digest', async () => {
      await store.apply([put('a', 1)], 1);
      const live = await store.digest(NOW);

      await store.apply([put('gone', 'x', NOW)], 2);
      await store.apply([put('deleted', 'y')], 3);
      await store.apply([del('deleted')], 4);
      expect(await store.digest(NOW)).toBe(live);
      expect(await store.digest(NOW - 1)).not.toBe(live);
    });

    it('gives a different digest for a different live state', async () => {
      await store.apply([put('a', 1, NOW + 1000)], 1);
      const base = await store.digest(NOW);

      await store.apply([put('a', 2, NOW + 1000)], 2);
      const otherValue = await store.digest(NOW);
      await store.apply([put('a', 2, NOW + 2000)], 3);
      const otherExpiry = await store.digest(NOW);
      await store.apply([put('z', null)], 4);
      const extraKey = await store.digest(NOW);

      expect(new Set([base, otherValue, otherExpiry, extraKey]).size).toBe(4);
    });

    it('clears keys, tombstones and checkpoints', async () => {
      const empty = await store.digest(NOW);
      await store.apply([put('a', 1)], 5, 'p');
      await store.apply([del('b')], 6, 'p');
      await store.clear();
      expect(await store.get('a', NOW)).toBeUndefined();
      expect(await store.checkpoint('p')).toBe(0);
      expect(await store.digest(NOW)).toBe(empty);
      await store.apply([put('b', 'after-clear')], 1);
      expect(await store.get('b', NOW)).toBe('after-clear');
    });

    it('stores values as JSON', async () => {
      const value = {
        text: 'héllo ✓',
        n: 1.5,
        nothing: null,
        list: [1, 'two', { three: 3 }],
        when: new Date('2024-01-02T03:04:05.000Z'),
        dropped: undefined,
      };
      await store.apply([put('k', value)], 1);
      const read = await store.get<Record<string, unknown>>('k', NOW);
      expect(read).toEqual({
        text: 'héllo ✓',
        n: 1.5,
        nothing: null,
        list: [1, 'two', { three: 3 }],
        when: '2024-01-02T03:04:05.000Z',
      });
      expect(read).not.toHaveProperty('dropped');
    });

    it('never shares objects with callers', async () => {
      const value = { nested: { n: 1 } };
      await store.apply([put('k', value)], 1);
      value.nested.n = 2;
      const read = await store.get<{ nested: { n: number } }>('k', NOW);
      expect(read).toEqual({ nested: { n: 1 } });
      read!.nested.n = 3;
      expect(await store.get('k', NOW)).toEqual({ nested: { n: 1 } });
    });
  });
}
