import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import type { ProjectionWrite } from '../../infra/projections/port.js';

/**
 * The in-memory projections forget what is dead (expired by the log's clock, tombstones their
 * checkpoint covers), so memory follows the live state, not the number of events; and nothing
 * forgotten comes back or changes what a read or a digest says.
 */

const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const put = (key: string, value: unknown, expiresAt?: number): ProjectionWrite =>
  expiresAt === undefined ? { kind: 'put', key, value } : { kind: 'put', key, value, expiresAt };

describe('InMemoryProjectionStore collecting dead state', () => {
  it('holds about the live state however many events: 100,000 sessions of one hour, one a second', async () => {
    const store = new InMemoryProjectionStore({ gcGraceMs: 60_000 });
    for (let i = 1; i <= 100_000; i++) {
      const at = T0 + i * 1000;
      await store.apply([put(`session:${i}`, { i }, at + HOUR)], i, { name: 'authn', at });
      if (i % 97 !== 0) continue;
      // Live (an hour and the grace) plus at most as many dead ones between two sweeps.
      expect(store.size).toBeLessThanOrEqual(2 * (3600 + 60) + 1024);
    }
    expect((await store.digestOf(T0 + 100_000 * 1000)).entries).toBe(3600);
  });

  it('drops a tombstone its checkpoint covers, and keeps one written without a checkpoint', async () => {
    const store = new InMemoryProjectionStore({ gcGraceMs: 0 });
    await store.apply([put('k', 'v')], 1, 'p');
    await store.apply([{ kind: 'delete', key: 'k' }], 2, 'p');
    expect(store.size).toBe(0);
    // The floor keeps an older write of the same projection out.
    await store.apply([put('k', 'stale')], 2, 'p');
    expect(await store.get('k', T0)).toBeUndefined();
    await store.apply([put('n', 'v')], 3);
    await store.apply([{ kind: 'delete', key: 'n' }], 4);
    expect(store.size).toBe(1);
    await store.apply([put('n', 'older')], 3);
    expect(await store.get('n', T0)).toBeUndefined();
  });

  it('keeps an expired write-through until the projector has passed it, and never revives it', async () => {
    const store = new InMemoryProjectionStore({ gcGraceMs: 0 });
    await store.apply([put('w', 'through', T0 + 10)], 5, { name: 'p', advance: false, at: T0 });
    await store.apply([], 2, { name: 'p', at: T0 + HOUR });
    // Expired by the clock, but above the checkpoint: the per-key position still guards it.
    await store.apply([put('w', 'older')], 4, { name: 'p', at: T0 + HOUR });
    expect(await store.get('w', T0)).toBe('through');
    await store.apply([put('w', 'through', T0 + 10)], 5, { name: 'p', at: T0 + HOUR });
    for (let i = 6; i < 1100; i++) await store.apply([], i, { name: 'p', at: T0 + HOUR });
    expect(store.size).toBe(0);
    await store.apply([put('w', 'older')], 4, 'p');
    expect(await store.get('w', T0)).toBeUndefined();
  });

  it("uses the clock of the entry's own checkpoint: a follower behind the others still reads what was live at its events", async () => {
    const store = new InMemoryProjectionStore({ gcGraceMs: 0 });
    await store.apply([put('slow:k', ['a'], T0 + HOUR)], 1, { name: 'slow', at: T0 });
    // Another projection runs a day ahead.
    for (let i = 2; i < 1100; i++) await store.apply([put(`fast:${i}`, i, T0 + 24 * HOUR)], i, { name: 'fast', at: T0 + 24 * HOUR });
    expect(await store.get('slow:k', T0 + HOUR / 2)).toEqual(['a']);
  });

  it('without gcGraceMs keeps everything, as a test with a fixed clock expects', async () => {
    const store = new InMemoryProjectionStore();
    await store.apply([put('k', 'v', T0)], 1, { name: 'p', at: T0 + HOUR });
    await store.apply([{ kind: 'delete', key: 'x' }], 2, 'p');
    expect(store.size).toBe(2);
    expect(await store.get('k', T0 - 1)).toBe('v');
  });
});
