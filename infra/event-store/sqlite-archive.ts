import type Database from 'better-sqlite3';

/**
 * The deletion half of `idp archive` on a SQLite log (README, "Verify and archive"). It runs
 * inside the write transaction that appends the `log.archived` event
 * (`SqliteEventStore.appendWith`), so the cut and its record are one commit: the log is never
 * cut without saying so, nor says so uncut.
 *
 * Before deleting it checks, under the write lock, that the rows it is about to delete are still
 * exactly the ones the archive file holds (their count and digest in position order) and that
 * none of their streams has grown past the cut since the plan was made; otherwise it throws and
 * the transaction, the append with it, rolls back.
 */
export interface ArchiveCutPlan {
  /** Nothing after this `$all` position is deleted. */
  upToPosition: number;
  /** The streams to delete whole. */
  streams: Iterable<string>;
  /**
   * Given the hashes of the rows about to be deleted, in position order: throws (an
   * ArchiveChangedError) unless they are what the archive file holds.
   */
  checkRows: (rows: Iterable<{ hash: string }>) => void;
}

export class ArchiveChangedError extends Error {
  override readonly name = 'ArchiveChangedError';
}

export function deleteArchivedStreams(db: Database.Database, plan: ArchiveCutPlan): void {
  db.exec('CREATE TEMP TABLE IF NOT EXISTS archive_cut_streams (name TEXT PRIMARY KEY) WITHOUT ROWID');
  try {
    db.exec('DELETE FROM archive_cut_streams');
    const insert = db.prepare<[string]>('INSERT OR IGNORE INTO archive_cut_streams (name) VALUES (?)');
    for (const name of plan.streams) insert.run(name);

    const grown = db
      .prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM events WHERE position > ? AND stream_name IN (SELECT name FROM archive_cut_streams)')
      .get(plan.upToPosition)!.n;
    if (grown > 0) throw new ArchiveChangedError(`${grown} events were appended after position ${plan.upToPosition} to streams planned for the archive; plan again`);

    const rows = db.prepare<[], { hash: string }>('SELECT hash FROM events WHERE stream_name IN (SELECT name FROM archive_cut_streams) ORDER BY position').iterate();
    try {
      plan.checkRows(rows);
    } finally {
      rows.return?.(); // a check that stopped early must not leave the statement open
    }
    db.exec('DELETE FROM events WHERE stream_name IN (SELECT name FROM archive_cut_streams)');
  } finally {
    db.exec('DELETE FROM archive_cut_streams');
  }
}
