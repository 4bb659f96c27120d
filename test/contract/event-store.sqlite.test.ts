import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RecordedEvent } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { describeEventStoreContract, newEvent } from './event-store.contract.js';

function tempDir(): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'event-store-'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describeEventStoreContract('sqlite', async () => {
  const { dir, remove } = tempDir();
  const file = path.join(dir, 'events.db');
  const store = SqliteEventStore.open(file);
  return {
    store,
    raceTarget: { kind: 'sqlite', path: file },
    cleanup: async () => {
      await store.close();
      remove();
    },
  };
});

describe('SqliteEventStore', () => {
  let dir: string;
  let remove: () => void;
  const opened: SqliteEventStore[] = [];
  const open = (file: string) => {
    const store = SqliteEventStore.open(file);
    opened.push(store);
    return store;
  };

  beforeEach(() => {
    ({ dir, remove } = tempDir());
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    remove();
  });

  it('creates missing parent directories and a WAL database, and keeps events across reopen', async () => {
    const file = path.join(dir, 'nested', 'deeper', 'events.db');
    const first = open(file);
    const { events, version } = await first.append('s', [newEvent('E', { kept: true })], 'no_stream');
    await first.close();

    const inspect = new Database(file, { readonly: true });
    try {
      expect(inspect.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      inspect.close();
    }
    expect(await open(file).readStream('s')).toStrictEqual({ events, version });
  });

  it('checks the expected version against appends made through another connection', async () => {
    const file = path.join(dir, 'events.db');
    const a = open(file);
    const b = open(file);
    await a.append('s', [newEvent('First', {})], 'no_stream');
    const { version } = await a.readStream('s');
    await b.append('s', [newEvent('FromB', {})], version ?? 'no_stream');

    await expect(a.append('s', [newEvent('Stale', {})], version ?? 'no_stream')).rejects.toMatchObject({
      name: 'WrongExpectedVersionError',
    });
    await expect(a.append('s', [newEvent('New', {})], 'no_stream')).rejects.toMatchObject({
      name: 'WrongExpectedVersionError',
    });
    expect((await b.readStream('s')).events.map((e) => e.type)).toEqual(['First', 'FromB']);
  });

  it('delivers to a subscription the events appended through another connection', async () => {
    const file = path.join(dir, 'events.db');
    const reader = open(file);
    const writer = open(file);
    const received: RecordedEvent[] = [];
    const subscription = reader.subscribeToAll((event) => void received.push(event));

    const { events } = await writer.append('s', [newEvent('A', {}), newEvent('B', {})], 'no_stream');
    const deadline = Date.now() + 5000;
    while (received.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));

    expect(received).toStrictEqual(events);
    await subscription.stop();
  });
});
