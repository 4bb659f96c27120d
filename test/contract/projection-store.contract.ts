import { setTimeout as sleep } from 'node:timers/promises';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { CheckpointLostError, type ProjectionStore, type ProjectionWrite } from '../../infra/projections/port.js';

export interface ProjectionStoreFixture {
  store: ProjectionStore;
  cleanup(): Promise<void>;
}

const NOW = 1_700_000_000_000;
const put = (key: string, value: unknown, expiresAt?: number): ProjectionWrite =>
  expiresAt === undefined ? { kind: 'put', key, value } : { kind: 'put', key, value, expiresAt };
const del = (key: string): ProjectionWrite => ({ kind: 'delete', key });

/** The behaviour every ProjectionStore adapter must show. */
/**
 * `factory` opens a fresh, empty store. `gcGraceMs` (default: long enough for the fixed clock
 * below) is how long after an entry's expiry a store that garbage-collects (Redis) may forget it.
 */
export function describeProjectionStoreContract(
  name: string,
  factory: (options?: { gcGraceMs?: number }) => Promise<ProjectionStoreFixture>,
): void {
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

    it('skips every write of an event at or below its checkpoint (it was applied already)', async () => {
      await store.apply([put('a', 'at-5')], 5, 'p');
      await store.apply([put('b', 'at-4'), put('a', 'at-4')], 4, 'p');
      await store.apply([put('c', 'at-5')], 5, 'p');
      expect(await store.get('a', NOW)).toBe('at-5');
      expect(await store.get('b', NOW)).toBeUndefined();
      expect(await store.get('c', NOW)).toBeUndefined();
      // Another checkpoint, or none, has no floor here.
      await store.apply([put('b', 'other')], 4, 'q');
      expect(await store.get('b', NOW)).toBe('other');
    });

    it('lets a write-through (advance: false) obey the floor without moving the checkpoint', async () => {
      await store.apply([], 5, 'p');
      await store.apply([put('a', 'through')], 8, { name: 'p', advance: false });
      await store.apply([put('b', 'below')], 3, { name: 'p', advance: false });
      expect(await store.checkpoint('p')).toBe(5);
      expect(await store.get('a', NOW)).toBe('through');
      expect(await store.get('b', NOW)).toBeUndefined();
      // The projector then applies the same event: nothing changes, the checkpoint moves.
      await store.apply([put('a', 'through')], 8, 'p');
      expect(await store.checkpoint('p')).toBe(8);
      expect(await store.get('a', NOW)).toBe('through');
    });

    it('refuses and writes nothing when its checkpoint is below what the projector already applied', async () => {
      await store.apply([put('a', 1)], 5, 'p');
      await store.clear(); // the store lost its state (an empty restart)
      const error = await store.apply([put('b', 2)], 6, { name: 'p', expectAtLeast: 5 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointLostError);
      expect(error).toMatchObject({ checkpointName: 'p', expectedAtLeast: 5, actual: 0 });
      expect(await store.get('b', NOW)).toBeUndefined();
      expect(await store.checkpoint('p')).toBe(0);
      // At or above the expectation it applies.
      await store.apply([put('b', 2)], 6, { name: 'p', expectAtLeast: 0 });
      expect(await store.checkpoint('p')).toBe(6);
    });

    it('never revives an entry whose expiry fired through an older write, and agrees with the in-memory store', async () => {
      const gc = await factory({ gcGraceMs: 0 });
      const reference = new InMemoryProjectionStore();
      try {
        const now = Date.now();
        const soon = now + 150;
        const history = async (s: ProjectionStore) => {
          await s.apply([put('k', 'older, never expires')], 5, 'p');
          await s.apply([put('k', 'newer, expires soon', soon)], 10, 'p');
          // A write-through ahead of the projector (the writer applying its own event).
          await s.apply([put('w', 'through, expires soon', soon)], 20, { name: 'p', advance: false });
        };
        await history(gc.store);
        await history(reference);
        await sleep(400); // past the expiry and a zero grace: a collecting store has dropped them

        // Older writes arrive: a lagging replica of the projector, and the projector itself.
        const older = async (s: ProjectionStore) => {
          await s.apply([put('k', 'older, never expires')], 5, 'p');
          await s.apply([put('w', 'older than the write-through')], 15, 'p');
        };
        await older(gc.store);
        await older(reference);
        const later = Date.now();
        for (const s of [gc.store, reference]) {
          expect(await s.get('k', later)).toBeUndefined();
          expect(await s.get('w', later)).toBeUndefined();
        }
        expect(await gc.store.digest(later)).toBe(await reference.digest(later));

        // The projector reaches the write-through's event; still nothing comes back.
        for (const s of [gc.store, reference]) {
          await s.apply([put('w', 'through, expires soon', soon)], 20, 'p');
          await s.apply([put('w', 'older again')], 18, 'p');
        }
        await sleep(100);
        const end = Date.now();
        expect(await gc.store.get('w', end)).toBeUndefined();
        expect(await gc.store.digest(end)).toBe(await reference.digest(end));
        expect(await gc.store.checkpoint('p')).toBe(20);
      } finally {
        await gc.cleanup();
      }
    });

    it('collecting what expired (by the log clock here, by the wall clock in Redis) leaves the digest of the live state as it is', async () => {
      const gc = await factory({ gcGraceMs: 0 });
      const reference = new InMemoryProjectionStore();
      try {
        const now = Date.now();
        const hour = 3_600_000;
        // Two hours of events, one every 3.6 s: sessions of 30 minutes, a logout now and then, a write-through ahead.
        const history = async (s: ProjectionStore) => {
          for (let i = 1; i <= 2000; i++) {
            const at = now - 2 * hour + i * 3_600;
            const writes: ProjectionWrite[] = [put(`session:${i}`, { i }, at + hour / 2)];
            if (i % 10 === 0) writes.push(del(`session:${i - 5}`));
            if (i % 100 === 0) writes.push(put(`user:${i}`, { i }));
            await s.apply(writes, i, { name: 'p', at });
          }
          await s.apply([put('session:ahead', 'through', now + hour)], 2005, { name: 'p', advance: false, at: now });
        };
        await history(gc.store);
        await history(reference);
        // Read after the writes: Redis has collected by the wall clock meanwhile (a zero grace).
        const later = Date.now();
        for (const at of [later, later + hour / 4]) expect(await gc.store.digest(at)).toBe(await reference.digest(at));
        expect((await gc.store.digestOf(later)).entries).toBe((await reference.digestOf(later)).entries);
      } finally {
        await gc.cleanup();
      }
    });

    it('reports the digest of selected keys, their live count and the highest position written, tombstones included', async () => {
      await store.apply([put('a:1', 1), put('b:1', 2), put('a:2', 3, NOW - 1)], 3, 'p');
      await store.apply([del('a:3')], 7, { name: 'p', advance: false });
      const onlyA = await store.digestOf(NOW, (key) => key.startsWith('a:'));
      expect(onlyA).toEqual({ digest: expect.stringMatching(/^[0-9a-f]{64}$/), entries: 1, highestPosition: 7 });
      const reference = new InMemoryProjectionStore();
      await reference.apply([put('a:1', 1)], 1);
      expect(onlyA.digest).toBe(await reference.digest(NOW));
      expect(await store.digestOf(NOW)).toMatchObject({ entries: 2, highestPosition: 7 });
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
