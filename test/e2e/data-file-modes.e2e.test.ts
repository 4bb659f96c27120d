import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';

/**
 * Whatever the embedded IdP writes into its data directory (KEK, SQLite log and its -wal/-shm,
 * data-key store) is the owner's alone: created 0600 in a 0700 directory even under umask 000,
 * and an existing file readable by others is tightened at start, with a warn-level log line.
 */

let parent: string;
let server: EmbeddedProcess | undefined;
let savedUmask: number;

beforeAll(() => {
  parent = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-e2e-modes-'));
  // The child inherits the umask: with 000, only the modes the server sets itself protect the files.
  savedUmask = process.umask(0o000);
});

afterAll(async () => {
  await server?.stop();
  process.umask(savedUmask);
  fs.rmSync(parent, { recursive: true, force: true });
}, 30_000);

/** Every file and directory under `dir` with its permission bits. */
function modes(dir: string): Array<{ file: string; mode: number }> {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => {
    const file = path.join(dir, name);
    return { file: name, mode: fs.statSync(file).mode & 0o777 };
  });
}

test('a fresh data directory is 0700 and every file the server writes into it is 0600, under umask 000', async () => {
  const dataDir = path.join(parent, 'fresh', 'data');
  server = await startEmbeddedProcess({ dataDir });
  // Running, so the WAL and shared-memory files exist too.
  const files = modes(dataDir).map((f) => f.file).sort();
  expect(files).toEqual(expect.arrayContaining(['kek', 'idp.db', 'idp.db-wal', 'idp.db-shm', 'data-keys.db', 'data-keys.db-wal', 'data-keys.db-shm']));
  expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.dirname(dataDir)).mode & 0o777).toBe(0o700);
  for (const entry of modes(dataDir)) expect({ ...entry, mode: entry.mode.toString(8) }).toEqual({ file: entry.file, mode: '600' });
  await server.stop();
  server = undefined;
}, 60_000);

test('an existing log and data-key store readable by others are tightened to 0600 at start, and it is logged', async () => {
  const dataDir = path.join(parent, 'fresh', 'data');
  for (const name of ['idp.db', 'data-keys.db']) fs.chmodSync(path.join(dataDir, name), 0o644);
  server = await startEmbeddedProcess({ dataDir });
  for (const entry of modes(dataDir)) expect({ ...entry, mode: entry.mode.toString(8) }).toEqual({ file: entry.file, mode: '600' });
  const warnings = server
    .logs()
    .split('\n')
    .filter((line) => line.includes('tightened to 0600'))
    .map((line) => JSON.parse(line) as { level: number; file: string; fromMode: string });
  expect(warnings.map((w) => [path.basename(w.file), w.fromMode, w.level]).sort()).toEqual([
    ['data-keys.db', '0644', 40],
    ['idp.db', '0644', 40],
  ]);
}, 60_000);

test('a KEK file readable by others is refused, not used', async () => {
  const dataDir = path.join(parent, 'fresh', 'data');
  await server?.stop();
  server = undefined;
  fs.chmodSync(path.join(dataDir, 'kek'), 0o640);
  await expect(startEmbeddedProcess({ dataDir })).rejects.toThrow(/KEK file .* is readable by group\/others/);
}, 60_000);
