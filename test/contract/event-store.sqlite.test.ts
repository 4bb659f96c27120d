import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { RecordedEvent } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import type { SqliteSynchronous } from '../../infra/event-store/sqlite-synchronous.js';
import { describeEventStoreContract, newEvent } from './event-store.contract.js';

function tempDir(): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'event-store-'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The compiled child beside this compiled test (see event-store-kill-child.ts). */
const KILL_CHILD = fileURLToPath(new URL('./event-store-kill-child.js', import.meta.url));
/** Appends the child must report before it is killed. */
const ACKNOWLEDGED_BEFORE_KILL = 5;

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

describe('SqliteEventStore durability', () => {
  let dir: string;
  let remove: () => void;
  const opened: SqliteEventStore[] = [];
  const open = (file: string, synchronous?: SqliteSynchronous) => {
    const store = SqliteEventStore.open(file, synchronous === undefined ? {} : { synchronous });
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

  // `full`: SQLite runs NORMAL (the WAL written at commit) and the store fsyncs the WAL before an append resolves.
  it('syncs every commit by default: WAL, PRAGMA synchronous = 1 on its connection, and the WAL fsynced before an append resolves', () => {
    expect(open(path.join(dir, 'events.db')).durability()).toEqual({ journalMode: 'wal', synchronous: 1, walFsyncBeforeResolve: true });
    expect(open(path.join(dir, 'full.db'), 'full').durability()).toEqual({ journalMode: 'wal', synchronous: 1, walFsyncBeforeResolve: true });
  });

  it('fsyncs nothing itself only when asked (normal), per connection, not per file', () => {
    const file = path.join(dir, 'events.db');
    expect(open(file, 'normal').durability()).toEqual({ journalMode: 'wal', synchronous: 1, walFsyncBeforeResolve: false });
    // The level is not stored in the file: another connection to it keeps its own.
    expect(open(file).durability().walFsyncBeforeResolve).toBe(true);
  });

  it('full: no append resolves before an fdatasync of the WAL that began after its commit; one serves the commits made while another ran', async () => {
    const store = open(path.join(dir, 'events.db'));
    await store.append('warm', [newEvent('E', {})], 'no_stream');
    const original = fs.fdatasync;
    const started: number[] = [];
    let finished = 0;
    (fs as { fdatasync: typeof fs.fdatasync }).fdatasync = ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      started.push(Date.now());
      setTimeout(() => original(fd, (error) => { finished++; callback(error); }), 100);
    }) as typeof fs.fdatasync;
    try {
      const t0 = Date.now();
      const first = store.append('a', [newEvent('A', {})], 'no_stream');
      // Commits in later turns while the first fsync runs: they wait for one more fsync, together.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const later = Array.from({ length: 10 }, (_, i) => store.append(`b-${i}`, [newEvent('B', {})], 'no_stream'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      const last = store.append('c', [newEvent('C', {})], 'no_stream');
      await first;
      expect(finished).toBeGreaterThanOrEqual(1);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
      await Promise.all([...later, last]);
      expect(finished).toBe(2);
      expect(started.length).toBe(2);
    } finally {
      (fs as { fdatasync: typeof fs.fdatasync }).fdatasync = original;
    }
  });

  it('refuses an unknown level, naming the accepted ones, before creating anything', () => {
    const file = path.join(dir, 'nested', 'events.db');
    expect(() => SqliteEventStore.open(file, { synchronous: 'off' as SqliteSynchronous })).toThrow(
      'unsupported SQLite synchronous "off": use full or normal',
    );
    expect(fs.existsSync(path.dirname(file))).toBe(false);
  });

  /**
   * A child process appends one event after another and prints each append the moment it
   * resolves; the test SIGKILLs it as soon as it has read a few of those lines (the child is
   * usually in the middle of the next append by then). No close, no checkpoint, no exit handler
   * runs: every event the child was told was appended must be in the file when it is reopened,
   * at the same stream index and position, and nothing torn may follow. (Survives a process kill
   * says nothing about an OS crash or power loss, which cannot be provoked here.)
   */
  it.each(['full', 'normal'] as const)('keeps every acknowledged append across a SIGKILL of the writing process (synchronous=%s)', async (synchronous) => {
    const file = path.join(dir, 'events.db');
    const child = spawn(process.execPath, [KILL_CHILD, file, synchronous, 'killed-stream'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // At once, in the same callback: the child gets no chance to tidy up after these lines.
      if (stdout.split('\n').length > ACKNOWLEDGED_BEFORE_KILL) child.kill('SIGKILL');
    });
    const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const signal = await exited;
    clearTimeout(timeout);

    const acknowledged = stdout
      .split('\n')
      .filter((line) => /^appended \d+ \d+$/.test(line))
      .map((line) => line.split(' ').slice(1).map(Number) as [number, number]);
    expect([signal, stderr]).toEqual(['SIGKILL', '']);
    expect(acknowledged.length).toBeGreaterThanOrEqual(ACKNOWLEDGED_BEFORE_KILL);
    // Not closed: the last connection's close would have checkpointed and deleted the WAL.
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);

    const { events, version } = await open(file).readStream('killed-stream');
    const stored = events.map((event) => [event.streamIndex, event.position]);
    expect(stored.slice(0, acknowledged.length)).toEqual(acknowledged);
    expect(events.map((event) => event.streamIndex)).toEqual(events.map((_, i) => i));
    expect(events.map((event) => (event.data as { n: number }).n)).toEqual(events.map((_, i) => i));
    expect(version).toBe(String(events.length - 1));
  });
});
