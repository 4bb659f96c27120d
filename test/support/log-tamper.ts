import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStreamName } from '../../contracts/streams.js';
import { eventHashFor, genesisHash } from '../../services/shared/app/event-hash.js';
import { foldEvent, RUNNING_HASH_START, type RunningHashState } from '../../services/shared/integrity/running-hash.js';

/**
 * What an attacker with write access to a SQLite log can do to it, for the tamper tests of
 * `idp verify` (DESIGN §4). Each works on a copy of a real log; none goes through our store
 * classes, as an attacker would not.
 */
export interface EventRow {
  position: number;
  stream_name: string;
  stream_index: number;
  type: string;
  schema_version: number;
  data: string | null;
  metadata: string | null;
  hash: string;
}

/** Copies the log (`idp.db` and its -wal/-shm, if any) of `dataDir` into a fresh directory; returns the copied database's path. */
export function copyLog(dataDir: string, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `idp-tamper-${label}-`));
  for (const name of readdirSync(dataDir).filter((n) => n.startsWith('idp.db'))) copyFileSync(join(dataDir, name), join(dir, name));
  return join(dir, 'idp.db');
}

export function withLog<T>(file: string, work: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

export function rowsOf(db: Database.Database): EventRow[] {
  return db.prepare<[], EventRow>('SELECT * FROM events ORDER BY position').all();
}

/**
 * An edit made consistent: after `edit` changes one event's data, every event is re-chained and
 * re-hashed in position order (each stream's `previousHash`, each hash), and every seal's
 * statement is rewritten to the new running hashes, and its chain of seals too. Only the seals'
 * signatures, which need the KEK-derived key, are left as they were.
 */
export function rewriteConsistently(db: Database.Database, position: number, edit: (data: Record<string, unknown>) => void): void {
  const rows = rowsOf(db);
  const lastHashOf = new Map<string, string>();
  const runningAt = new Map<number, RunningHashState>();
  const lastSealOf = new Map<string, { upToPosition: number; runningHash: string }>();
  let running = RUNNING_HASH_START;
  const update = db.prepare<[string | null, string | null, string, number]>('UPDATE events SET data = ?, metadata = ?, hash = ? WHERE position = ?');
  db.transaction(() => {
    for (const row of rows) {
      const data = row.data === null ? undefined : (JSON.parse(row.data) as Record<string, unknown>);
      const metadata = JSON.parse(row.metadata!) as Record<string, unknown>;
      if (row.position === position) edit(data!);
      if (row.type === 'log.checkpoint_sealed') {
        const seal = data as { upToPosition: number; runningHash: string; eventCount: number; previousSeal: unknown };
        const at = runningAt.get(seal.upToPosition)!;
        seal.runningHash = at.runningHash;
        seal.eventCount = at.eventCount;
        seal.previousSeal = lastSealOf.get(row.stream_name) ?? null;
        lastSealOf.set(row.stream_name, { upToPosition: seal.upToPosition, runningHash: seal.runningHash });
      }
      metadata.previousHash = lastHashOf.get(row.stream_name) ?? genesisHash(parseStreamName(row.stream_name)!.tenant);
      const hash = eventHashFor(2, { type: row.type, schemaVersion: row.schema_version, data, metadata, streamName: row.stream_name, streamIndex: row.stream_index });
      lastHashOf.set(row.stream_name, hash);
      running = foldEvent(running, { position: row.position, hash });
      runningAt.set(row.position, running);
      update.run(data === undefined ? null : JSON.stringify(data), JSON.stringify(metadata), hash, row.position);
    }
  })();
}
