import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { PRIVATE_FILE_MODE } from '../files/private-files.js';

/**
 * Cuts the beginning of a SQLite log off into an archive file (README, "Verify and archive"):
 * every event at or before `upToPosition` is written to `archiveFile` as one JSON line each
 * (the stored record whole: position, stream, index, type, version, data, metadata, hash), the
 * file is fsynced, and only then are those rows deleted, in the same write transaction, so
 * the archive and the cut are one step: no event is ever in neither. The archive file must not
 * exist yet (it is created 0600). Positions are never reused (AUTOINCREMENT), so the remaining
 * log keeps its positions.
 */
export interface ArchiveCut {
  /** Events moved into the archive file. */
  archived: number;
  /** SHA-256 (hex) of the archive file as written. */
  sha256: string;
}

interface Row {
  position: number;
  stream_name: string;
  stream_index: number;
  type: string;
  schema_version: number;
  data: string | null;
  metadata: string | null;
  hash: string;
}

export function cutSqliteLog(logFile: string, upToPosition: number, archiveFile: string, header: Record<string, unknown>): ArchiveCut {
  const db = new Database(logFile, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = FULL');
    const fd = openSync(archiveFile, 'wx', PRIVATE_FILE_MODE);
    const digest = createHash('sha256');
    const write = (line: string) => {
      const bytes = Buffer.from(`${line}\n`, 'utf8');
      digest.update(bytes);
      writeSync(fd, bytes);
    };
    let archived = 0;
    try {
      db.transaction(() => {
        write(JSON.stringify({ ...header, kind: 'idp-log-archive', upToPosition }));
        const rows = db.prepare<[number], Row>('SELECT * FROM events WHERE position <= ? ORDER BY position').iterate(upToPosition);
        for (const row of rows) {
          write(
            JSON.stringify({
              position: row.position,
              streamName: row.stream_name,
              streamIndex: row.stream_index,
              type: row.type,
              schemaVersion: row.schema_version,
              data: row.data === null ? undefined : JSON.parse(row.data),
              metadata: row.metadata === null ? undefined : JSON.parse(row.metadata),
              hash: row.hash,
            }),
          );
          archived++;
        }
        fsyncSync(fd);
        db.prepare('DELETE FROM events WHERE position <= ?').run(upToPosition);
      }).immediate();
    } catch (error) {
      closeSync(fd);
      unlinkSync(archiveFile);
      throw error;
    }
    closeSync(fd);
    return { archived, sha256: digest.digest('hex') };
  } finally {
    db.close();
  }
}
