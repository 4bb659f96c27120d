import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import type { ProjectionWrite } from '../../infra/projections/port.js';
import { RedisProjectionStore, type RedisProjectionStoreOptions } from '../../infra/projections/redis.js';
import { freePort, startRedis, type TestServer } from '../support/servers.js';
import { describeProjectionStoreContract } from './projection-store.contract.js';

let server: TestServer;
const opened: RedisProjectionStore[] = [];

beforeAll(async () => {
  server = await startRedis();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

const newPrefix = () => `test:${randomUUID()}:`;

/** A store (by default in a namespace of its own), cleared and closed by `closeAll`. */
async function open(options: RedisProjectionStoreOptions = {}): Promise<RedisProjectionStore> {
  const store = await RedisProjectionStore.connect(server.url, { keyPrefix: newPrefix(), ...options });
  opened.push(store);
  return store;
}

/** Two connections to one fresh namespace. */
async function openPair(): Promise<[RedisProjectionStore, RedisProjectionStore]> {
  const keyPrefix = newPrefix();
  return [await open({ keyPrefix }), await open({ keyPrefix })];
}

async function closeAll(): Promise<void> {
  for (const store of opened.splice(0)) {
    await store.clear();
    await store.close();
  }
}

// The contract runs on a fixed clock in 2023; Redis garbage-collects on the real clock, so give
// it a grace long enough to keep the contract's entries for as long as its reads need them.
const CENTURY_MS = 100 * 365 * 24 * 3600 * 1000;

describeProjectionStoreContract('redis', async (options) => {
  const store = await open({ gcGraceMs: options?.gcGraceMs ?? CENTURY_MS });
  return { store, cleanup: closeAll };
});

const put = (key: string, value: unknown, expiresAt?: number): ProjectionWrite =>
  expiresAt === undefined ? { kind: 'put', key, value } : { kind: 'put', key, value, expiresAt };
const del = (key: string): ProjectionWrite => ({ kind: 'delete', key });

/** The same permutation on every run, so a failure can be replayed. */
function shuffled<T>(items: T[], seed = 42): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('RedisProjectionStore', () => {
  afterEach(closeAll);

  it('converges on the newest write when two connections apply out of order', async () => {
    const [a, b] = await openPair();
    // Event p writes key k(p % 5); every seventh event deletes it instead.
    const events = Array.from({ length: 200 }, (_, i) => {
      const position = i + 1;
      const key = `k${position % 5}`;
      return { position, writes: [position % 7 === 0 ? del(key) : put(key, { position })] };
    });
    const order = shuffled(events);
    // Per-key positions alone (no checkpoint): out of order, the newest write of each key wins.
    await Promise.all(order.map((event, i) => (i % 2 === 0 ? a : b).apply(event.writes, event.position)));

    const reference = new InMemoryProjectionStore();
    for (const event of events) await reference.apply(event.writes, event.position, 'projector');
    for (let k = 0; k < 5; k++) {
      const expected = await reference.get(`k${k}`);
      expect(await a.get(`k${k}`)).toEqual(expected);
      expect(await b.get(`k${k}`)).toEqual(expected);
    }
    expect(await a.get('k0')).toEqual({ position: 200 });
    expect(await a.get('k1')).toBeUndefined(); // deleted at 196, its newest event
    expect(await a.digest()).toBe(await reference.digest());
  });

  it('converges when two projector replicas, each in order, apply the same events at different speeds', async () => {
    const [a, b] = await openPair();
    const events = Array.from({ length: 120 }, (_, i) => {
      const position = i + 1;
      const key = `k${position % 5}`;
      return { position, writes: [position % 7 === 0 ? del(key) : put(key, { position })] };
    });
    const replica = async (store: RedisProjectionStore, pauseEvery: number) => {
      let last = 0;
      for (const event of events) {
        await store.apply(event.writes, event.position, { name: 'projector', expectAtLeast: last });
        last = event.position;
        if (event.position % pauseEvery === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await Promise.all([replica(a, 3), replica(b, 11)]);
    const reference = new InMemoryProjectionStore();
    for (const event of events) await reference.apply(event.writes, event.position, 'projector');
    expect(await a.digest()).toBe(await reference.digest());
    expect(await b.checkpoint('projector')).toBe(120);
  });

  it('gives an entry a Redis expiry only once the checkpoint covers it', async () => {
    const keyPrefix = newPrefix();
    const store = await open({ keyPrefix, gcGraceMs: 60_000 });
    const expiresAt = Date.now() + 60_000;
    await store.apply([], 4, 'p');
    await store.apply([put('through', 't', expiresAt)], 9, { name: 'p', advance: false });
    await store.apply([put('projected', 'p', expiresAt)], 5, 'p');
    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      const pttl = async (key: string) => raw.pExpireTime(`{${keyPrefix}}k:${key}`);
      expect(await pttl('projected')).toBe(expiresAt + 60_000);
      expect(await pttl('through')).toBe(-1); // no expiry yet: its position must not be forgotten
      await store.apply([put('through', 't', expiresAt)], 9, 'p');
      expect(await pttl('through')).toBe(expiresAt + 60_000);
    } finally {
      await raw.close();
    }
  });

  it('writes nothing, checkpoint included, when one value of an apply is invalid', async () => {
    const store = await open();
    const empty = await store.digest();
    const invalid: ProjectionWrite[][] = [
      [put('a', 1), put('b', undefined), put('c', 3)],
      [put('a', 1), put('b', 10n)],
      [put('a', 1), put('b', 2, Number.NaN)],
    ];
    for (const writes of invalid) {
      await expect(store.apply(writes, 5, 'p')).rejects.toThrow();
    }
    await expect(store.apply([put('a', 1)], 1.5, 'p')).rejects.toThrow(RangeError);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.checkpoint('p')).toBe(0);
    expect(await store.digest()).toBe(empty);
  });

  it('makes the writes and checkpoint of one apply visible together to other connections', async () => {
    const [writer, reader] = await openPair();
    const keys = Array.from({ length: 40 }, (_, i) => `key${i}`);

    let done = false;
    const writing = (async () => {
      for (let position = 1; position <= 150; position++) {
        await writer.apply(keys.map((key) => put(key, position)), position, 'p');
      }
      done = true;
    })();
    let snapshots = 0;
    const violations: string[] = [];
    while (!done) {
      // Sent back to back on one connection; the writer's scripts interleave between them.
      const [before, values, after] = await Promise.all([
        reader.checkpoint('p'),
        Promise.all(keys.map((key) => reader.get<number>(key))),
        reader.checkpoint('p'),
      ]);
      snapshots++;
      for (const value of values) {
        const seen = value ?? 0;
        if (seen < before || seen > after) violations.push(`checkpoint ${before}..${after}, value ${seen}`);
      }
    }
    await writing;
    expect(snapshots).toBeGreaterThan(10);
    expect(violations).toEqual([]);
    expect(await reader.checkpoint('p')).toBe(150);
  });

  it('decides liveness from the caller clock and lets Redis drop entries after the grace', async () => {
    const keyPrefix = newPrefix();
    const store = await open({ keyPrefix, gcGraceMs: 60_000 });
    const now = Date.now();
    const soon = now + 60_000;
    const longGone = now - 120_000;
    await store.apply([put('soon', 's', soon), put('long-gone', 'g', longGone), put('forever', 'f')], 1);

    expect(await store.get('soon', soon - 1)).toBe('s');
    expect(await store.get('soon', soon)).toBeUndefined();
    // Alive for a caller whose clock is two minutes behind, but Redis already dropped it.
    expect(await store.get('long-gone', longGone - 1)).toBeUndefined();
    expect(await store.get('forever', now + 10 ** 12)).toBe('f');

    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      const redisKeys: string[] = [];
      for await (const batch of raw.scanIterator({ MATCH: `*${keyPrefix}*` })) {
        redisKeys.push(...batch);
      }
      const expiries = await Promise.all(redisKeys.map((key) => raw.pExpireTime(key)));
      expect(expiries.sort()).toEqual([-1, soon + 60_000].sort());
    } finally {
      await raw.close();
    }
  });

  it('keeps stores with nested prefixes apart', async () => {
    const base = newPrefix();
    const outer = await open({ keyPrefix: base });
    const nested = await open({ keyPrefix: `${base}k:` });
    const sibling = await open({ keyPrefix: `${base}x` });
    await outer.apply([put('a', 'outer')], 1, 'p');
    await nested.apply([put('a', 'nested')], 2, 'p');
    await sibling.apply([put('x:a', 'sibling')], 3, 'p');
    const nestedDigest = await nested.digest();

    await outer.clear();
    expect(await outer.get('a')).toBeUndefined();
    expect(await outer.checkpoint('p')).toBe(0);
    expect(await nested.get('a')).toBe('nested');
    expect(await nested.checkpoint('p')).toBe(2);
    expect(await nested.digest()).toBe(nestedDigest);
    expect(await sibling.get('x:a')).toBe('sibling');
    expect(await sibling.checkpoint('p')).toBe(3);
  });

  it('rejects a key prefix with braces', async () => {
    await expect(RedisProjectionStore.connect(server.url, { keyPrefix: 'a{b}:' })).rejects.toThrow(/braces/);
  });

  it('fails to connect at once when Redis is unreachable', async () => {
    const started = Date.now();
    await expect(RedisProjectionStore.connect(`redis://127.0.0.1:${await freePort()}`)).rejects.toThrow(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
