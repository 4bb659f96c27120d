import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteDataKeyStore } from '../../infra/crypto/data-keys/sqlite.js';
import { describeDataKeyStoreContract } from './data-key-store.contract.js';

let dir: string;
let path: string;
let kek: Buffer;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'data-keys-'));
  path = join(dir, 'data-keys.db');
  kek = randomBytes(32);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describeDataKeyStoreContract('sqlite', () => SqliteDataKeyStore.open(path, kek));

/** Everything SQLite may have written: the database, its WAL and shared-memory files. */
function rawFiles(): Buffer {
  return Buffer.concat(
    [path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)),
  );
}

function wrappedColumn(tenant: string, subject: string): string {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare('SELECT wrapped FROM data_keys WHERE tenant = ? AND subject = ?').get(tenant, subject) as
      | { wrapped: string | null }
      | undefined;
    if (!row?.wrapped) throw new Error('no wrapped key');
    return row.wrapped;
  } finally {
    db.close();
  }
}

describe('SqliteDataKeyStore', () => {
  test('commits with synchronous=FULL, as durable as the log whose events its keys seal', async () => {
    const store = SqliteDataKeyStore.open(path, kek);
    try {
      expect(store.synchronousLevel()).toBe(2);
    } finally {
      await store.close();
    }
  });

  test('a reopened file gives the same key, and a destroyed key stays destroyed', async () => {
    const first = SqliteDataKeyStore.open(path, kek);
    const key = await first.getOrCreate('acme', 'user-1');
    await first.getOrCreate('acme', 'user-2');
    await first.destroy('acme', 'user-2');
    await first.close();

    const second = SqliteDataKeyStore.open(path, kek);
    try {
      expect(await second.get('acme', 'user-1')).toEqual(key);
      expect(await second.getOrCreate('acme', 'user-1')).toEqual(key);
      expect(await second.get('acme', 'user-2')).toBeUndefined();
      await expect(second.getOrCreate('acme', 'user-2')).rejects.toThrow('destroyed');
    } finally {
      await second.close();
    }
  });

  test('the raw file never holds a data key in plaintext', async () => {
    const store = SqliteDataKeyStore.open(path, kek);
    const keys = [await store.getOrCreate('acme', 'user-1'), await store.getOrCreate('acme', 'user-2')];
    // Check while the connection is open (WAL present) and after close (checkpointed).
    for (const phase of ['open', 'closed']) {
      if (phase === 'closed') await store.close();
      const raw = rawFiles();
      expect(raw.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(raw.includes(key)).toBe(false);
        expect(raw.includes(key.toString('base64url'))).toBe(false);
        expect(raw.includes(key.toString('base64'))).toBe(false);
        expect(raw.includes(key.toString('hex'))).toBe(false);
      }
    }
  });

  test('destroy leaves no trace of the wrapped key in the file', async () => {
    const store = SqliteDataKeyStore.open(path, kek);
    for (let i = 0; i < 5; i++) await store.getOrCreate('acme', `user-${i}`);
    await store.close();
    // SQLite reuses part of a freed cell, so look for every fragment, not the whole ciphertext.
    const { iv, ct, tag } = JSON.parse(wrappedColumn('acme', 'user-2')) as { iv: string; ct: string; tag: string };
    const traces = [iv, ct.slice(0, 16), ct.slice(-16), tag];
    const leftovers = () => traces.filter((trace) => rawFiles().includes(trace));
    expect(leftovers()).toEqual(traces);

    const again = SqliteDataKeyStore.open(path, kek);
    await again.destroy('acme', 'user-2');
    expect(leftovers()).toEqual([]);
    await again.close();
    expect(leftovers()).toEqual([]);
  });

  test('another KEK cannot unwrap the keys', async () => {
    const store = SqliteDataKeyStore.open(path, kek);
    await store.getOrCreate('acme', 'user-1');
    await store.close();

    const wrong = SqliteDataKeyStore.open(path, randomBytes(32));
    try {
      await expect(wrong.get('acme', 'user-1')).rejects.toThrow(/wrong KEK/);
      await expect(wrong.getOrCreate('acme', 'user-1')).rejects.toThrow(/wrong KEK/);
    } finally {
      await wrong.close();
    }
  });

  test('a wrapped key copied to another row does not unwrap', async () => {
    const store = SqliteDataKeyStore.open(path, kek);
    await store.getOrCreate('ab', 'c');
    const db = new Database(path);
    const insert = db.prepare('INSERT INTO data_keys (tenant, subject, wrapped) VALUES (?, ?, ?)');
    insert.run('ab', 'mallory', wrappedColumn('ab', 'c'));
    insert.run('a', 'bc', wrappedColumn('ab', 'c'));
    db.close();
    try {
      await expect(store.get('ab', 'mallory')).rejects.toThrow(/cannot unwrap/);
      await expect(store.get('a', 'bc')).rejects.toThrow(/cannot unwrap/);
    } finally {
      await store.close();
    }
  });

  test('rejects a KEK that is not 32 bytes', () => {
    expect(() => SqliteDataKeyStore.open(path, randomBytes(16))).toThrow(/32 bytes/);
  });

  test('two connections to one file share keys and destroys', async () => {
    const a = SqliteDataKeyStore.open(path, kek);
    const b = SqliteDataKeyStore.open(path, kek);
    try {
      const [fromA, fromB] = await Promise.all([a.getOrCreate('acme', 'user-1'), b.getOrCreate('acme', 'user-1')]);
      expect(fromB).toEqual(fromA);
      await a.destroy('acme', 'user-1');
      expect(await b.get('acme', 'user-1')).toBeUndefined();
      await expect(b.getOrCreate('acme', 'user-1')).rejects.toThrow('destroyed');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('connections racing in parallel threads agree on every first key', async () => {
    const workers = 4;
    const subjects = 200;
    const go = new Int32Array(new SharedArrayBuffer(4));
    const moduleUrl = new URL('../../infra/crypto/data-keys/sqlite.js', import.meta.url).href;
    const results = Array.from({ length: workers }, () => {
      const worker = new Worker(RACE_WORKER, { eval: true, workerData: { moduleUrl, path, kek, go, subjects } });
      const ready = new Promise<void>((resolve) => worker.once('message', () => resolve()));
      const done = new Promise<string[]>((resolve, reject) => {
        worker.once('error', reject);
        worker.on('message', (msg: unknown) => {
          if (Array.isArray(msg)) resolve(msg as string[]);
        });
      });
      return { ready, done };
    });
    await Promise.all(results.map((r) => r.ready));
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    const keys = await Promise.all(results.map((r) => r.done));

    const store = SqliteDataKeyStore.open(path, kek);
    try {
      for (let i = 0; i < subjects; i++) {
        const stored = (await store.get('acme', `user-${i}`))?.toString('hex');
        expect(stored).toHaveLength(64);
        for (const perWorker of keys) expect(perWorker[i]).toBe(stored);
      }
    } finally {
      await store.close();
    }
  });
});

// Opens its own connection, says it is ready, waits for the starting signal, then creates keys.
const RACE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { moduleUrl, path, kek, go, subjects } = workerData;
  const { SqliteDataKeyStore } = await import(moduleUrl);
  const store = SqliteDataKeyStore.open(path, Buffer.from(kek));
  parentPort.postMessage('ready');
  Atomics.wait(go, 0, 0);
  const keys = [];
  for (let i = 0; i < subjects; i++) keys.push((await store.getOrCreate('acme', 'user-' + i)).toString('hex'));
  await store.close();
  parentPort.postMessage(keys);
})();
`;
