import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { WrongExpectedVersionError, type RecordedEvent } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { newEvent } from './event-store.contract.js';

/**
 * Group commit and the followers' recent tail of the SQLite log (issue 12;
 * infra/event-store/sqlite-group-commit.ts, sqlite-recent-tail.ts): the appends of one turn of
 * the event loop share one transaction, yet each caller gets its own outcome; what other
 * connections append still reaches every follower, in order and once.
 */
let dir: string;
let file: string;
const opened: SqliteEventStore[] = [];
const open = () => {
  const store = SqliteEventStore.open(file);
  opened.push(store);
  return store;
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-commit-'));
  file = path.join(dir, 'events.db');
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SQLite group commit', () => {
  it('commits the appends of one turn together: 40 appends, far fewer commits, every event there', async () => {
    const store = open();
    const before = store.commitStats();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => store.append(`s-${i}`, [newEvent('E', { i })], 'no_stream')));
    const after = store.commitStats();
    expect(after.appends - before.appends).toBe(40);
    expect(after.commits - before.commits).toBeLessThan(5);
    // Positions follow submission order, and each caller got its own event back.
    expect(results.map((r) => r.events[0]!.position)).toEqual([...results.map((r) => r.events[0]!.position)].sort((a, b) => a - b));
    expect(results.map((r) => (r.events[0]!.data as { i: number }).i)).toEqual([...Array(40).keys()]);
    expect((await store.readAll()).length).toBe(40);
  });

  it('in one batch, exactly one of two appends at the same expected version wins; the others commit', async () => {
    const store = open();
    await store.append('contested', [newEvent('Created', {})], 'no_stream');
    const outcomes = await Promise.allSettled([
      store.append('contested', [newEvent('A', {})], '0' as never),
      store.append('other-1', [newEvent('X', {})], 'no_stream'),
      store.append('contested', [newEvent('B', {})], '0' as never),
      store.append('other-2', [newEvent('Y', {})], 'no_stream'),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersionError);
    expect((await store.readStream('contested')).events.map((e) => e.type)).toEqual(['Created', 'A']);
    expect((await store.readAll()).map((e) => e.streamName)).toEqual(['contested', 'contested', 'other-1', 'other-2']);
  });

  it("rolls back alone an append whose own work fails in the transaction (appendWith), and the batch commits", async () => {
    const store = open();
    const outcomes = await Promise.allSettled([
      store.append('a', [newEvent('A', {})], 'no_stream'),
      store.appendWith('b', [newEvent('B', {})], 'no_stream', (db) => {
        db.prepare('CREATE TEMP TABLE IF NOT EXISTS scratch (x)').run();
        throw new Error('the check failed');
      }),
      store.append('c', [newEvent('C', {})], 'no_stream'),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((outcomes[1] as PromiseRejectedResult).reason as Error).message).toBe('the check failed');
    expect((await store.readAll()).map((e) => e.streamName)).toEqual(['a', 'c']);
  });

  it('when the commit itself cannot happen (the write lock held elsewhere past the busy timeout), every caller of the batch fails and nothing is written', async () => {
    const store = open();
    await store.append('first', [newEvent('E', {})], 'no_stream');
    const other = new Database(file);
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      const outcomes = await Promise.allSettled([store.append('a', [newEvent('A', {})], 'no_stream'), store.append('b', [newEvent('B', {})], 'no_stream')]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
      expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/locked|busy/i);
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    expect((await store.readAll()).map((e) => e.streamName)).toEqual(['first']);
    // And the store goes on.
    await store.append('later', [newEvent('E', {})], 'no_stream');
    expect((await store.readAll()).map((e) => e.streamName)).toEqual(['first', 'later']);
  }, 20_000);

  it('resolves no caller before its event is committed: a second connection sees it the moment the promise settles', async () => {
    const store = open();
    const reader = SqliteEventStore.openReadOnly((await store.append('seed', [newEvent('E', {})], 'no_stream'), file));
    try {
      const appended = await store.append('seen', [newEvent('E', {})], 'no_stream');
      expect((await reader.readStream('seen')).events.map((e) => e.position)).toEqual([appended.events[0]!.position]);
    } finally {
      await reader.close();
    }
  });
});

describe('SQLite followers and the recent tail', () => {
  it("deliver this connection's and another connection's appends in position order, each once", async () => {
    const store = open();
    const writer = open();
    const seen: RecordedEvent[] = [];
    let caughtUp = false;
    const subscription = store.subscribeToAll((event) => void seen.push(event), { onCaughtUp: () => (caughtUp = true) });
    try {
      await waitFor(() => caughtUp);
      await store.append('mine', [newEvent('M1', {})], 'no_stream');
      await writer.append('theirs', [newEvent('T1', {})], 'no_stream');
      await store.append('mine', [newEvent('M2', {})], '0' as never);
      await Promise.all([store.append('mine', [newEvent('M3', {})], '1' as never), writer.append('theirs', [newEvent('T2', {})], '0' as never)]);
      await store.append('mine', [newEvent('M4', {})], '2' as never);
      const all = await store.readAll();
      await waitFor(() => seen.length >= all.length);
      expect(seen.map((e) => e.position)).toEqual(all.map((e) => e.position));
      expect(seen.map((e) => e.type).sort()).toEqual(['M1', 'M2', 'M3', 'M4', 'T1', 'T2']);
      // What the followers got is what the log holds.
      expect(seen).toEqual(all);
      // Another connection's append with nothing after it from this one: found by polling, not hidden by the tail.
      const last = await writer.append('theirs', [newEvent('T3', {})], '1' as never);
      await waitFor(() => seen.some((e) => e.position === last.events[0]!.position), 3_000);
    } finally {
      await subscription.stop();
    }
  });

  it('after rows were deleted under it (idp archive, another connection), a follower reads SQLite again and misses nothing new', async () => {
    const store = open();
    await store.append('gone', [newEvent('G', {})], 'no_stream');
    await store.append('kept', [newEvent('K1', {})], 'no_stream');
    const seen: string[] = [];
    let caughtUp = false;
    const subscription = store.subscribeToAll((event) => void seen.push(event.type), { onCaughtUp: () => (caughtUp = true) });
    try {
      await waitFor(() => caughtUp && seen.length === 2);
      const other = new Database(file);
      other.prepare("DELETE FROM events WHERE stream_name = 'gone'").run();
      other.close();
      await store.append('kept', [newEvent('K2', {})], '0' as never);
      await waitFor(() => seen.length === 3);
      expect(seen).toEqual(['G', 'K1', 'K2']);
    } finally {
      await subscription.stop();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
