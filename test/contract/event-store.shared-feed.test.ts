import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore, RecordedEvent, SubscribeOptions, Subscription } from '../../infra/event-store/port.js';
import { SharedFeed } from '../../infra/event-store/shared-feed.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { describeEventStoreContract, newEvent, waitUntil } from './event-store.contract.js';

type HeadedStore = EventStore & { headPosition(): Promise<number> };

/**
 * A store whose subscriptions all go through one SharedFeed over the store's own subscriptions,
 * as the JetStream store's do (its contract run covers that); `feedSubscriptions` counts the
 * subscriptions the feed opened on the store.
 */
function sharing(store: HeadedStore): { store: EventStore; feedSubscriptions: () => number } {
  let opened = 0;
  const feed = new SharedFeed({
    subscribe: (handler, options) => {
      opened++;
      return store.subscribeToAll(handler, options);
    },
    readAll: (options) => store.readAll(options),
    headPosition: () => store.headPosition(),
  });
  const shared: EventStore = {
    append: (streamName, events, expected) => store.append(streamName, events, expected),
    readStream: (streamName) => store.readStream(streamName),
    readAll: (options) => store.readAll(options),
    headPosition: () => store.headPosition(),
    subscribeToAll: (handler, options) => feed.subscribe(handler, options),
    ping: () => store.ping(),
    close: async () => {
      await feed.close();
      await store.close();
    },
  };
  return { store: shared, feedSubscriptions: () => opened };
}

describeEventStoreContract('in-memory, subscriptions on a shared feed', async () => {
  const { store } = sharing(new InMemoryEventStore());
  return { store, cleanup: () => store.close() };
});

describeEventStoreContract('sqlite, subscriptions on a shared feed', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-feed-'));
  const { store } = sharing(SqliteEventStore.open(path.join(dir, 'events.db')));
  return {
    store,
    cleanup: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const numbered = (count: number, from = 0) => Array.from({ length: count }, (_, i) => newEvent('E', { n: from + i }));
const positions = (events: RecordedEvent[]) => events.map((e) => e.position);

describe('SharedFeed', () => {
  let inner: InMemoryEventStore;
  let store: EventStore;
  let feedSubscriptions: () => number;

  beforeEach(() => {
    inner = new InMemoryEventStore();
    ({ store, feedSubscriptions } = sharing(inner));
  });
  afterEach(() => store.close());

  it('runs one subscription on the store for all its members, each at its own pace', async () => {
    await store.append('s', numbered(10), 'no_stream');
    const received: RecordedEvent[][] = [[], [], []];
    const members = received.map((into, i) =>
      store.subscribeToAll(async (event) => {
        if (i === 2) await sleep(2);
        into.push(event);
      }),
    );
    await store.append('t', numbered(10, 10), 'no_stream');
    const all = await store.readAll();
    await waitUntil(() => received.every((r) => r.length === all.length), 'every member has everything');

    expect(feedSubscriptions()).toBe(1);
    for (const r of received) expect(positions(r)).toEqual(positions(all));
    await Promise.all(members.map((m) => m.stop()));
  });

  it('lets a member that starts far behind read the log, then join the feed without a gap or a repeat', async () => {
    const live: RecordedEvent[] = [];
    const first = store.subscribeToAll((event) => void live.push(event));
    // More than the feed keeps (1,024), so the late member must read the log first.
    for (let i = 0; i < 3; i++) await store.append(`s${i}`, numbered(1000, i * 1000), 'no_stream');
    await waitUntil(() => live.length === 3000, 'the first member has everything');

    const late: RecordedEvent[] = [];
    let caughtUp = -1;
    const second = store.subscribeToAll((event) => void late.push(event), { after: 10, onCaughtUp: () => (caughtUp = late.length) });
    const appending = (async () => {
      for (let i = 0; i < 20; i++) await store.append('more', numbered(5, i * 5), 'any');
    })();
    await appending;
    const all = await store.readAll();
    await waitUntil(() => late.length === all.length - 10, 'the late member has everything after 10');

    expect(positions(late)).toEqual(positions(all.slice(10)));
    expect(caughtUp).toBeGreaterThanOrEqual(2990);
    expect(feedSubscriptions()).toBe(1);
    await Promise.all([first.stop(), second.stop()]);
  });

  it('sends a member too far behind back to reading the log, and the others do not wait for it', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const slow: RecordedEvent[] = [];
    const fast: RecordedEvent[] = [];
    const slowMember = store.subscribeToAll(async (event) => {
      slow.push(event);
      if (slow.length === 1) await blocked;
    });
    const fastMember = store.subscribeToAll((event) => void fast.push(event));
    await store.append('first', numbered(1), 'no_stream');
    await waitUntil(() => slow.length === 1, 'the slow member is blocked');
    // Over the 10,000 events a member may have waiting.
    for (let i = 0; i < 11; i++) await store.append(`bulk-${i}`, numbered(1000, i * 1000), 'no_stream');
    await waitUntil(() => fast.length === 11_001, 'the fast member has everything while the slow one is blocked');

    release();
    await store.append('last', numbered(1), 'no_stream');
    const all = await store.readAll();
    await waitUntil(() => slow.length === all.length, 'the slow member has everything');
    expect(positions(slow)).toEqual(positions(all));
    await Promise.all([slowMember.stop(), fastMember.stop()]);
  });

  it('ends every member on the feed with the feed’s error, and a new member starts a new feed', async () => {
    const failure = new Error('consumer lost');
    let feedOptions: SubscribeOptions | undefined;
    const source = {
      subscribe: (handler: (event: RecordedEvent) => void, options: SubscribeOptions): Subscription => {
        feedOptions = options;
        return inner.subscribeToAll(handler, options);
      },
      readAll: (options: { after: number; limit: number }) => inner.readAll(options),
      headPosition: () => inner.headPosition(),
    };
    const feed = new SharedFeed(source);
    const errors: unknown[] = [];
    const received: RecordedEvent[] = [];
    feed.subscribe((event) => void received.push(event), { onError: (error) => errors.push(error) });
    feed.subscribe(() => undefined, { onError: (error) => errors.push(error) });
    await inner.append('s', numbered(2), 'no_stream');
    await waitUntil(() => received.length === 2, 'delivered');
    const firstFeed = feedOptions;

    firstFeed!.onError!(failure);
    await waitUntil(() => errors.length === 2, 'both members ended');
    expect(errors).toEqual([failure, failure]);

    const again: RecordedEvent[] = [];
    const member = feed.subscribe((event) => void again.push(event), { after: 2 });
    await inner.append('s', numbered(1, 2), 'any');
    await waitUntil(() => again.length === 1, 'the new member gets the new event');
    expect(feedOptions).not.toBe(firstFeed);
    await member.stop();
    await feed.close();
  });

  it('stops the store subscription with its last member', async () => {
    let stops = 0;
    const feed = new SharedFeed({
      subscribe: (handler, options) => {
        const subscription = inner.subscribeToAll(handler, options);
        return { stop: () => (stops++, subscription.stop()) };
      },
      readAll: (options) => inner.readAll(options),
      headPosition: () => inner.headPosition(),
    });
    const a = feed.subscribe(() => undefined);
    const b = feed.subscribe(() => undefined);
    await inner.append('s', numbered(1), 'no_stream');
    await sleep(20);
    await a.stop();
    expect(stops).toBe(0);
    await b.stop();
    expect(stops).toBe(1);
  });
});
