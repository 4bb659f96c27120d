/**
 * The contract every EventStore adapter must pass (infra/event-store/port.ts). Each runner calls
 * `describeEventStoreContract` with a factory that gives a fresh, empty store per test.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import {
  WrongExpectedVersionError,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  type RecordedEvent,
  type StreamVersion,
  type Subscription,
} from '../../infra/event-store/port.js';

/** How the race worker opens its own, independent connection to the store under test. */
export type RaceTarget =
  | { kind: 'sqlite'; path: string }
  | { kind: 'jetstream'; url: string; streamName: string; subjectPrefix: string }
  | { kind: 'kurrentdb'; connectionString: string; streamPrefix: string };

export interface EventStoreUnderTest {
  store: EventStore;
  /** Another way into the same store, for the cross-thread race; undefined races in-process. */
  raceTarget?: RaceTarget;
  /** Closes the store (close() may already have been called) and removes what it left behind. */
  cleanup: () => Promise<void>;
}

/** What the suite hands each race worker. */
export interface RaceWorkerData {
  target: RaceTarget;
  streamName: string;
  expected: ExpectedVersion;
  event: NewEvent;
  /** Int32 at index 0: the workers block until it becomes non-zero. */
  gate: SharedArrayBuffer;
}

export type RaceOutcome = 'appended' | 'wrong_expected_version' | `failed: ${string}`;

type WorkerMessage = { kind: 'ready' } | { kind: 'result'; outcome: RaceOutcome };

const RACERS = 50;
/** Longer than any adapter's polling interval: time for a wrong extra delivery to show up. */
const QUIET_MS = 600;

export function newEvent(type: string, data: unknown, metadata: unknown = { note: type }): NewEvent {
  const hash = createHash('sha256').update(JSON.stringify({ type, schemaVersion: 1, data, metadata })).digest('hex');
  return { type, schemaVersion: 1, data, metadata, hash };
}

function numbered(type: string, count: number, from = 0): NewEvent[] {
  return Array.from({ length: count }, (_, i) => newEvent(type, { n: from + i }));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

const positions = (events: RecordedEvent[]) => events.map((event) => event.position);

/** Races `count` appends from separate worker threads, released together by a shared gate. */
async function raceInWorkers(
  target: RaceTarget,
  streamName: string,
  expected: ExpectedVersion,
  count: number,
): Promise<RaceOutcome[]> {
  const gate = new SharedArrayBuffer(4);
  const workers = Array.from(
    { length: count },
    (_, i) =>
      new Worker(new URL('./event-store-race-worker.js', import.meta.url), {
        workerData: { target, streamName, expected, event: newEvent('Raced', { racer: i }), gate } satisfies RaceWorkerData,
      }),
  );
  const tracked = workers.map((worker) => {
    let onReady!: () => void;
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    const outcome = new Promise<RaceOutcome>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.kind === 'ready') onReady();
        else resolve(message.outcome);
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`race worker exited (${code}) without a result`)));
    });
    // A worker that dies before 'ready' must fail the test rather than hang it.
    return { ready: Promise.race([ready, outcome.then(() => undefined)]), outcome };
  });
  try {
    await Promise.all(tracked.map((t) => t.ready));
    const flag = new Int32Array(gate);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    return await Promise.all(tracked.map((t) => t.outcome));
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** The same race inside one thread: all appends start in the same tick. */
async function raceInProcess(
  store: EventStore,
  streamName: string,
  expected: ExpectedVersion,
  count: number,
): Promise<RaceOutcome[]> {
  const settled = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => store.append(streamName, [newEvent('Raced', { racer: i })], expected)),
  );
  return settled.map((result): RaceOutcome => {
    if (result.status === 'fulfilled') return 'appended';
    if (result.reason instanceof WrongExpectedVersionError) return 'wrong_expected_version';
    return `failed: ${String(result.reason)}`;
  });
}

export function describeEventStoreContract(name: string, factory: () => Promise<EventStoreUnderTest>): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let raceTarget: RaceTarget | undefined;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, raceTarget, cleanup } = await factory());
    });

    afterEach(async () => {
      await cleanup();
    });

    describe('append and readStream', () => {
      it('appends to a new stream with no_stream', async () => {
        const event = newEvent('Created', { id: 'a' });
        const result = await store.append('s-new', [event], 'no_stream');

        expect(result.events).toHaveLength(1);
        expect(result.events[0]).toMatchObject({ ...event, streamName: 's-new', streamIndex: 0 });
        const read = await store.readStream('s-new');
        expect(read.events).toStrictEqual(result.events);
        expect(read.version).toBe(result.version);
      });

      it('rejects no_stream on an existing stream with WrongExpectedVersionError', async () => {
        const { version } = await store.append('s', [newEvent('Created', {})], 'no_stream');

        const attempt = store.append('s', [newEvent('Again', {})], 'no_stream');
        await expect(attempt).rejects.toBeInstanceOf(WrongExpectedVersionError);
        await expect(attempt).rejects.toMatchObject({ streamName: 's', expected: 'no_stream', actual: version });
        expect((await store.readStream('s')).events.map((e) => e.type)).toEqual(['Created']);
      });

      it('accepts the version it handed out and rejects a stale one without writing', async () => {
        await store.append('s', [newEvent('First', {})], 'no_stream');
        const stale = (await store.readStream('s')).version as StreamVersion;
        const second = await store.append('s', [newEvent('Second', {})], stale);
        expect(second.events[0]?.streamIndex).toBe(1);
        expect(second.version).not.toBe(stale);

        const attempt = store.append('s', numbered('Late', 2), stale);
        await expect(attempt).rejects.toBeInstanceOf(WrongExpectedVersionError);
        await expect(attempt).rejects.toMatchObject({ expected: stale, actual: second.version });

        const after = await store.readStream('s');
        expect(after.events.map((e) => e.type)).toEqual(['First', 'Second']);
        expect(after.version).toBe(second.version);
        expect(await store.readAll()).toHaveLength(2);
      });

      it("rejects another stream's version, and any version on a missing stream", async () => {
        const { version } = await store.append('s', numbered('E', 3), 'no_stream');
        const { version: other } = await store.append('t', [newEvent('E', {})], 'no_stream');
        expect(other).not.toBe(version);

        await expect(store.append('s', [newEvent('X', {})], other)).rejects.toBeInstanceOf(WrongExpectedVersionError);
        await expect(store.append('missing', [newEvent('X', {})], version)).rejects.toMatchObject({
          name: 'WrongExpectedVersionError',
          actual: null,
        });
        expect((await store.readStream('missing')).version).toBeNull();
      });

      it("appends with 'any' to new and existing streams", async () => {
        const first = await store.append('s', [newEvent('A', {})], 'any');
        const second = await store.append('s', [newEvent('B', {})], 'any');

        expect(first.events[0]?.streamIndex).toBe(0);
        expect(second.events[0]?.streamIndex).toBe(1);
        expect((await store.readStream('s')).version).toBe(second.version);
      });

      it('appends several events atomically with consecutive stream indexes', async () => {
        await store.append('s', [newEvent('Before', {})], 'no_stream');
        const result = await store.append('s', numbered('Batch', 4), 'any');

        expect(result.events.map((e) => e.streamIndex)).toEqual([1, 2, 3, 4]);
        const batchPositions = positions(result.events);
        expect(batchPositions).toEqual([...batchPositions].sort((a, b) => a - b));
        expect(new Set(batchPositions).size).toBe(4);
        const read = await store.readStream('s');
        expect(read.events.slice(1)).toStrictEqual(result.events);
        expect(read.version).toBe(result.version);
      });

      it('writes none of the events when one of them cannot be stored', async () => {
        await store.append('s', [newEvent('Before', {})], 'no_stream');
        const unserialisable = { ...newEvent('Bad', {}), data: { big: 1n } };

        await expect(store.append('s', [newEvent('Good', {}), unserialisable], 'any')).rejects.toThrow();
        expect((await store.readStream('s')).events.map((e) => e.type)).toEqual(['Before']);
        expect(await store.readAll()).toHaveLength(1);
      });

      it('rejects an empty append and writes nothing', async () => {
        await expect(store.append('s', [], 'no_stream')).rejects.toThrow();
        expect(await store.readStream('s')).toStrictEqual({ events: [], version: null });
      });

      it('reads a missing stream as no events and a null version', async () => {
        await store.append('other', [newEvent('A', {})], 'no_stream');
        expect(await store.readStream('missing')).toStrictEqual({ events: [], version: null });
      });

      it('keeps streams apart', async () => {
        await store.append('a', numbered('A', 2), 'no_stream');
        await store.append('b', numbered('B', 3), 'no_stream');
        await store.append('a', numbered('A', 1, 2), 'any');

        const a = await store.readStream('a');
        expect(a.events.map((e) => [e.streamName, e.streamIndex, e.data])).toEqual([
          ['a', 0, { n: 0 }],
          ['a', 1, { n: 1 }],
          ['a', 2, { n: 2 }],
        ]);
        expect((await store.readStream('b')).events.map((e) => e.streamIndex)).toEqual([0, 1, 2]);
      });

      it('round-trips type, schema version, hash, data and metadata exactly', async () => {
        const data = {
          nested: { deep: { list: [1, 'two', { three: [null, true, false] }], empty: {}, none: [] } },
          unicode: 'grüße, 日本語, emoji 🔐👩‍💻, rtl שלום, combining é, quote " backslash \\ nul \u0000',
          numbers: [0, -1, 1.5, -2.25e-7, 1e300, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
          'key with spaces': '',
          zlast: 1,
          afirst: 2,
        };
        const metadata = { eventId: 'x', tenant: 'ténant', nested: { a: [1, { b: 'ß' }] }, causationId: null };
        const event = { ...newEvent('Exotic.Type-v2', data, metadata), schemaVersion: 7 };
        const appended = await store.append('s-ü/日本', [event], 'no_stream');
        const subscribed: RecordedEvent[] = [];
        const subscription = store.subscribeToAll((e) => void subscribed.push(e));
        await waitUntil(() => subscribed.length === 1, 'the event is delivered');
        await subscription.stop();

        const reads = [
          appended.events[0],
          (await store.readStream('s-ü/日本')).events[0],
          (await store.readAll())[0],
          subscribed[0],
        ];
        for (const read of reads) {
          expect(read).toStrictEqual({ ...event, streamName: 's-ü/日本', streamIndex: 0, position: read?.position });
          // Key order survives too, so a re-hash of the stored form sees the same bytes.
          expect(JSON.stringify(read?.data)).toBe(JSON.stringify(data));
          expect(JSON.stringify(read?.metadata)).toBe(JSON.stringify(metadata));
        }
      });

      it('is not changed by mutating what was appended or read', async () => {
        const data = { list: [1, 2], inner: { value: 'original' } };
        await store.append('s', [newEvent('A', data)], 'no_stream');
        data.list.push(3);
        data.inner.value = 'changed after append';
        const first = await store.readStream('s');
        (first.events[0]?.data as typeof data).inner.value = 'changed after read';

        const again = await store.readStream('s');
        expect(again.events[0]?.data).toStrictEqual({ list: [1, 2], inner: { value: 'original' } });
      });
    });

    describe('$all', () => {
      it('gives positions that increase strictly across streams in commit order', async () => {
        const results = [
          await store.append('a', numbered('A', 2), 'no_stream'),
          await store.append('b', numbered('B', 1), 'no_stream'),
          await store.append('a', numbered('A', 3, 2), 'any'),
          await store.append('c', numbered('C', 1), 'no_stream'),
        ];
        const committed = results.flatMap((r) => r.events);

        const all = await store.readAll();
        expect(all).toStrictEqual(committed);
        for (let i = 1; i < all.length; i++) {
          expect(all[i]?.position).toBeGreaterThan(all[i - 1]?.position ?? Infinity);
        }
      });

      it('reads after a position and at most limit events', async () => {
        await store.append('a', numbered('A', 4), 'no_stream');
        await store.append('b', numbered('B', 4), 'no_stream');
        const all = await store.readAll();
        const third = all[2]?.position as number;

        expect(await store.readAll({ after: third })).toStrictEqual(all.slice(3));
        expect(await store.readAll({ after: third, limit: 2 })).toStrictEqual(all.slice(3, 5));
        expect(await store.readAll({ limit: 3 })).toStrictEqual(all.slice(0, 3));
        expect(await store.readAll({ after: 0 })).toStrictEqual(all);
        expect(await store.readAll({ limit: 0 })).toStrictEqual([]);
        expect(await store.readAll({ after: all[all.length - 1]?.position as number })).toStrictEqual([]);
      });

      it('pages through everything with after and limit', async () => {
        for (let i = 0; i < 5; i++) await store.append(`s${i % 2}`, numbered('E', 5, i * 5), 'any');
        const all = await store.readAll();
        expect(all).toHaveLength(25);

        const paged: RecordedEvent[] = [];
        // Bounded, so that a store that never runs dry fails instead of spinning forever.
        for (let reads = 0; reads < 10; reads++) {
          const page = await store.readAll({ after: paged.at(-1)?.position ?? 0, limit: 7 });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(7);
          paged.push(...page);
        }
        expect(paged).toStrictEqual(all);
      });

      it('reads an empty store as no events', async () => {
        expect(await store.readAll()).toStrictEqual([]);
      });
    });

    describe('subscribeToAll', () => {
      it('delivers history, calls onCaughtUp, then delivers live events, in order and exactly once', async () => {
        await store.append('a', numbered('A', 2), 'no_stream');
        await store.append('b', numbered('B', 1), 'no_stream');
        const history = await store.readAll();

        const received: RecordedEvent[] = [];
        const caughtUpWith: number[] = [];
        const subscription = store.subscribeToAll((event) => void received.push(event), {
          onCaughtUp: () => caughtUpWith.push(received.length),
        });
        await waitUntil(() => caughtUpWith.length > 0, 'caught up');
        expect(caughtUpWith).toEqual([history.length]);
        expect(received).toStrictEqual(history);

        await store.append('a', numbered('A', 2, 2), 'any');
        await store.append('c', numbered('C', 1), 'no_stream');
        const all = await store.readAll();
        await waitUntil(() => received.length >= all.length, 'live events are delivered');
        await sleep(QUIET_MS);

        expect(received).toStrictEqual(all);
        expect(caughtUpWith).toHaveLength(1);
        await subscription.stop();
      });

      it('calls onCaughtUp on an empty store and then delivers live events', async () => {
        const received: RecordedEvent[] = [];
        let caughtUp = 0;
        const subscription = store.subscribeToAll((event) => void received.push(event), {
          onCaughtUp: () => caughtUp++,
        });
        await waitUntil(() => caughtUp === 1, 'caught up');
        expect(received).toEqual([]);

        const { events } = await store.append('s', numbered('E', 3), 'no_stream');
        await waitUntil(() => received.length >= 3, 'live events are delivered');
        expect(received).toStrictEqual(events);
        await subscription.stop();
      });

      it('delivers only events after the given position', async () => {
        await store.append('a', numbered('A', 5), 'no_stream');
        const all = await store.readAll();
        const after = all[1]?.position as number;

        const received: RecordedEvent[] = [];
        let caughtUp = false;
        const subscription = store.subscribeToAll((event) => void received.push(event), {
          after,
          onCaughtUp: () => (caughtUp = true),
        });
        await waitUntil(() => caughtUp, 'caught up');
        expect(received).toStrictEqual(all.slice(2));
        await subscription.stop();
      });

      it('delivers a long history across many reads, in order and exactly once', async () => {
        for (let i = 0; i < 12; i++) await store.append(`s${i % 3}`, numbered('E', 100, i * 100), 'any');
        const all = await store.readAll();
        const received: RecordedEvent[] = [];
        let caughtUp = false;
        const subscription = store.subscribeToAll((event) => void received.push(event), {
          after: all[10]?.position,
          onCaughtUp: () => (caughtUp = true),
        });
        await waitUntil(() => caughtUp, 'caught up');
        expect(positions(received)).toEqual(positions(all.slice(11)));
        await subscription.stop();
      });

      it('delivers events appended while it is still catching up, each once and in order', async () => {
        await store.append('s', numbered('E', 20), 'no_stream');
        const received: RecordedEvent[] = [];
        // The handler is slower than the appends, so they all land while it is busy.
        const subscription = store.subscribeToAll(async (event) => {
          received.push(event);
          await sleep(3);
        });
        for (let i = 0; i < 10; i++) {
          await store.append(`t${i % 3}`, numbered('Live', 3, i * 3), 'any');
          await sleep(1);
        }
        const all = await store.readAll();
        await waitUntil(() => received.length >= all.length, 'everything is delivered');
        await sleep(QUIET_MS);

        expect(positions(received)).toEqual(positions(all));
        await subscription.stop();
      });

      it('awaits an async handler: never two calls at once', async () => {
        await store.append('s', numbered('E', 5), 'no_stream');
        let active = 0;
        let maxActive = 0;
        const received: RecordedEvent[] = [];
        const subscription = store.subscribeToAll(async (event) => {
          active++;
          maxActive = Math.max(maxActive, active);
          await sleep(3);
          received.push(event);
          active--;
        });
        await store.append('s', numbered('E', 5, 5), 'any');
        await store.append('t', numbered('E', 5), 'no_stream');
        await waitUntil(() => received.length >= 15, 'everything is delivered');

        expect(maxActive).toBe(1);
        expect(positions(received)).toEqual(positions(await store.readAll()));
        await subscription.stop();
      });

      it('stops delivering after stop(), which waits for the running handler', async () => {
        await store.append('s', numbered('E', 3), 'no_stream');
        const received: RecordedEvent[] = [];
        let release!: () => void;
        const blocked = new Promise<void>((resolve) => (release = resolve));
        const subscription = store.subscribeToAll(async (event) => {
          received.push(event);
          if (received.length === 2) await blocked;
        });
        await waitUntil(() => received.length === 2, 'the second event is being handled');

        let stopped = false;
        const stopping = subscription.stop().then(() => (stopped = true));
        await sleep(50);
        expect(stopped).toBe(false);
        release();
        await stopping;

        await store.append('s', numbered('E', 2, 3), 'any');
        await sleep(QUIET_MS);
        expect(received).toHaveLength(2);
      });

      it('can be stopped from inside its own handler', async () => {
        await store.append('s', numbered('E', 5), 'no_stream');
        const received: RecordedEvent[] = [];
        let stopped = false;
        let subscription: Subscription | undefined;
        subscription = store.subscribeToAll(async (event) => {
          received.push(event);
          if (received.length === 2) {
            await subscription?.stop();
            stopped = true;
          }
        });
        await waitUntil(() => stopped, 'the handler has stopped its subscription');
        await store.append('s', numbered('E', 1, 5), 'any');
        await sleep(QUIET_MS);
        expect(received).toHaveLength(2);
      });

      it('ends on a handler error and reports it to onError', async () => {
        await store.append('s', numbered('E', 3), 'no_stream');
        const received: RecordedEvent[] = [];
        const errors: unknown[] = [];
        const failure = new Error('projection failed');
        store.subscribeToAll(
          (event) => {
            received.push(event);
            if (received.length === 2) throw failure;
          },
          { onError: (error) => errors.push(error) },
        );
        await waitUntil(() => errors.length > 0, 'the error is reported');
        await store.append('s', numbered('E', 1, 3), 'any');
        await sleep(QUIET_MS);

        expect(errors).toEqual([failure]);
        expect(received).toHaveLength(2);
      });

      it('runs several subscriptions independently', async () => {
        await store.append('s', numbered('E', 3), 'no_stream');
        const fast: RecordedEvent[] = [];
        const slow: RecordedEvent[] = [];
        const subscriptions = [
          store.subscribeToAll((event) => void fast.push(event)),
          store.subscribeToAll(async (event) => {
            await sleep(5);
            slow.push(event);
          }),
        ];
        await store.append('t', numbered('E', 3), 'no_stream');
        await waitUntil(() => fast.length >= 6 && slow.length >= 6, 'both have everything');

        const all = await store.readAll();
        expect(fast).toStrictEqual(all);
        expect(slow).toStrictEqual(all);
        await Promise.all(subscriptions.map((s) => s.stop()));
      });
    });

    describe('concurrency', () => {
      it(`lets exactly one of ${RACERS} racing appends at the same expected version win`, async () => {
        await store.append('race', numbered('Before', 3), 'no_stream');
        const { version } = await store.readStream('race');
        const expected = version as StreamVersion;

        const outcomes = raceTarget
          ? await raceInWorkers(raceTarget, 'race', expected, RACERS)
          : await raceInProcess(store, 'race', expected, RACERS);

        const winners = outcomes.flatMap((outcome, racer) => (outcome === 'appended' ? [racer] : []));
        expect(outcomes.filter((o) => o !== 'appended' && o !== 'wrong_expected_version')).toEqual([]);
        expect(winners).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'wrong_expected_version')).toHaveLength(RACERS - 1);

        const after = await store.readStream('race');
        expect(after.events.map((e) => e.type)).toEqual(['Before', 'Before', 'Before', 'Raced']);
        expect(after.events[3]?.data).toEqual({ racer: winners[0] });
        expect(await store.readAll()).toHaveLength(4);
      }, 60_000);

      it("gives concurrent 'any' appends distinct, consecutive stream indexes", async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.append('s', numbered('E', 2, i * 2), 'any')),
        );
        const indexes = results.flatMap((r) => r.events.map((e) => e.streamIndex)).sort((a, b) => a - b);
        expect(indexes).toEqual(Array.from({ length: 40 }, (_, i) => i));
        for (const result of results) {
          const [first, second] = result.events;
          expect(second?.streamIndex).toBe((first?.streamIndex ?? NaN) + 1);
        }
        expect((await store.readStream('s')).events).toHaveLength(40);
      });
    });

    describe('lifecycle', () => {
      it('answers ping while open, and refuses after close', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await expect(store.ping()).rejects.toThrow();
        await expect(store.append('s', [newEvent('E', {})], 'any')).rejects.toThrow();
      });

      it('waits on close for a running handler, then delivers nothing more', async () => {
        await store.append('s', numbered('E', 3), 'no_stream');
        const received: RecordedEvent[] = [];
        let release!: () => void;
        const blocked = new Promise<void>((resolve) => (release = resolve));
        store.subscribeToAll(async (event) => {
          received.push(event);
          await blocked;
        });
        await waitUntil(() => received.length === 1, 'the first event is being handled');

        let closed = false;
        const closing = store.close().then(() => (closed = true));
        await sleep(50);
        expect(closed).toBe(false);
        release();
        await closing;
        await sleep(QUIET_MS);
        expect(received).toHaveLength(1);
      });
    });
  });
}
