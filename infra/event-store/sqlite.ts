import Database from 'better-sqlite3';
import { CatchUpSubscription } from './catch-up.js';
import {
  UndecodableEventError,
  WrongExpectedVersionError,
  type AppendResult,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  type ReadStreamResult,
  type RecordedEvent,
  type StreamVersion,
  type SubscribeOptions,
  type Subscription,
} from './port.js';
import { versionMatches } from './expectations.js';
import { GroupCommit } from './sqlite-group-commit.js';
import { RecentTail } from './sqlite-recent-tail.js';
import { WalSync } from './sqlite-wal-sync.js';
import { preparePrivateSqliteFile, type TightenedListener } from '../files/private-files.js';
import {
  DEFAULT_SQLITE_SYNCHRONOUS,
  SYNCHRONOUS_PRAGMA,
  parseSqliteSynchronous,
  type SqliteSynchronous,
} from './sqlite-synchronous.js';

/** How often subscriptions look for events appended through other connections. */
const POLL_INTERVAL_MS = 250;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_name    TEXT    NOT NULL,
    stream_index   INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT,
    metadata       TEXT,
    hash           TEXT    NOT NULL,
    UNIQUE (stream_name, stream_index)
  )`;

export interface SqliteEventStoreOptions {
  /**
   * `full` (default): every append is fsynced before it resolves. `normal`: faster, but the last
   * appends may be lost to an OS crash or power loss (see sqlite-synchronous.ts).
   */
  synchronous?: SqliteSynchronous;
  /** Told when the file (or its -wal/-shm) existed readable by group/others and was tightened to 0600. */
  onTightened?: TightenedListener;
}

interface EventRow {
  position: number;
  stream_name: string;
  stream_index: number;
  type: string;
  schema_version: number;
  /** JSON; NULL for undefined. */
  data: string | null;
  metadata: string | null;
  hash: string;
}

/**
 * The event store in one SQLite file. Several connections (threads, processes) may share the
 * file: appends run in BEGIN IMMEDIATE transactions, so SQLite's single writer serialises them,
 * and positions become visible in commit order. The appends of one turn of the event loop share
 * one transaction, each in its own savepoint (group commit, sqlite-group-commit.ts). An append
 * resolves once its transaction has committed at the configured `synchronous` level (FULL by
 * default: fsynced).
 */
export class SqliteEventStore implements EventStore {
  private readonly subscriptions = new Set<CatchUpSubscription>();
  private poller: NodeJS.Timeout | undefined;
  private closed = false;

  private readonly lastIndexStmt;
  private readonly insertStmt;
  private readonly streamStmt;
  private readonly afterStmt;
  private readonly typedStmts = new Map<string, Database.Statement<[number, string, number], EventRow>>();
  private readonly appendTx;
  private readonly commits: GroupCommit;
  /** What this connection appended last, decoded, for the followers (sqlite-recent-tail.ts). */
  private readonly tail = new RecentTail(4096);
  private readonly dataVersionStmt;
  /** `PRAGMA data_version` when the tail was last known whole: it changes when another connection commits. */
  private tailDataVersion: number | undefined;
  /**
   * Set by the followers' poll: the next read of a follower checks `data_version`. A commit of
   * this connection needs no check: the tail sees its positions, and one that does not follow the
   * last one (another connection committed in between) starts the tail afresh (RecentTail.push).
   */
  private othersMayHaveCommitted = true;

  private constructor(
    private readonly db: Database.Database,
    /** Opened with `openReadOnly`: every append is refused, by this class and by SQLite. */
    readonly readOnly = false,
    private readonly walSync?: WalSync,
  ) {
    this.lastIndexStmt = db.prepare<[string], { last: number | null }>(
      'SELECT MAX(stream_index) AS last FROM events WHERE stream_name = ?',
    );
    this.insertStmt = db.prepare<[string, number, string, number, string | null, string | null, string]>(
      `INSERT INTO events (stream_name, stream_index, type, schema_version, data, metadata, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.streamStmt = db.prepare<[string], EventRow>('SELECT * FROM events WHERE stream_name = ? ORDER BY stream_index');
    this.afterStmt = db.prepare<[number, number], EventRow>(
      'SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?',
    );
    this.appendTx = db.transaction((streamName: string, rows: EventRow[], expected: ExpectedVersion, alsoInTransaction?: (db: Database.Database) => void) => {
      const actual = this.currentVersion(streamName);
      if (!versionMatches(expected, actual)) throw new WrongExpectedVersionError(streamName, expected, actual);
      alsoInTransaction?.(db);
      const next = actual === null ? 0 : Number(actual) + 1;
      return rows.map((row, i): EventRow => {
        const streamIndex = next + i;
        const { lastInsertRowid } = this.insertStmt.run(
          streamName,
          streamIndex,
          row.type,
          row.schema_version,
          row.data,
          row.metadata,
          row.hash,
        );
        return { ...row, stream_index: streamIndex, position: Number(lastInsertRowid) };
      });
    });
    this.dataVersionStmt = db.prepare<[], { data_version: number }>('PRAGMA data_version');
    this.commits = new GroupCommit(
      db,
      (values) => {
        this.tail.push((values as RecordedEvent[][]).flat());
        for (const subscription of this.subscriptions) subscription.notify();
      },
      walSync ? () => walSync.sync() : undefined,
    );
  }

  /**
   * Opens (creating the file, its directory and the schema if needed) the store at `file`.
   * `synchronous` is set on this connection explicitly: it is not stored in the file, and the
   * bundled SQLite of better-sqlite3 is built with NORMAL as its WAL default.
   */
  static open(file: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    // Checked before anything is created: a bad level must not leave an empty database behind.
    const synchronous = parseSqliteSynchronous(options.synchronous ?? DEFAULT_SQLITE_SYNCHRONOUS);
    if (file !== ':memory:') preparePrivateSqliteFile(file, options.onTightened);
    const db = new Database(file);
    try {
      // busy_timeout first: the other pragmas and the schema may have to wait for other connections.
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      const pragma = SYNCHRONOUS_PRAGMA[synchronous];
      db.pragma(`synchronous = ${pragma.name}`);
      // Read back: a level SQLite silently ignored would otherwise go unnoticed.
      const inEffect = db.pragma('synchronous', { simple: true });
      if (inEffect !== pragma.value) throw new Error(`SQLite kept synchronous = ${String(inEffect)} instead of ${pragma.name}`);
      db.exec(SCHEMA);
      // `full`: every commit's WAL fsynced before its appends resolve (sqlite-wal-sync.ts).
      const walSync = synchronous === 'full' && file !== ':memory:' ? new WalSync(file) : undefined;
      return new SqliteEventStore(db, false, walSync);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * Opens an existing log for reading only (the `idp` command line's reads, DESIGN §9): SQLite
   * opens the file read-only, nothing is created or tightened, and `append` throws. A server may
   * be writing the same file meanwhile; WAL lets both go on.
   */
  static openReadOnly(file: string): SqliteEventStore {
    if (file === ':memory:') throw new Error('a read-only store needs a file');
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      return new SqliteEventStore(db, true);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async append(streamName: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    return this.appendWith(streamName, events, expected);
  }

  /**
   * `append`, with `alsoInTransaction` run inside the same write transaction after the version
   * check and before the insert: both commit, or neither (`idp archive` records its cut this way,
   * infra/event-store/sqlite-archive.ts). If it throws, nothing is written and the error is the
   * append's.
   */
  async appendWith(
    streamName: string,
    events: NewEvent[],
    expected: ExpectedVersion,
    alsoInTransaction?: (db: Database.Database) => void,
  ): Promise<AppendResult> {
    this.assertOpen();
    if (this.readOnly) throw new Error('this event store was opened read-only');
    if (events.length === 0) throw new RangeError('append needs at least one event');
    // Serialised up front so that a bad event fails before the transaction starts.
    const rows = events.map(
      (event): EventRow => ({
        position: 0,
        stream_name: streamName,
        stream_index: 0,
        type: event.type,
        schema_version: event.schemaVersion,
        data: JSON.stringify(event.data) ?? null,
        metadata: JSON.stringify(event.metadata) ?? null,
        hash: event.hash,
      }),
    );

    let stored: RecordedEvent[];
    try {
      // Committed with whatever else was appended in this turn of the event loop (sqlite-group-commit.ts).
      stored = await this.commits.submit(() => this.appendTx(streamName, rows, expected, alsoInTransaction).map(toRecorded));
    } catch (error) {
      // The version check runs inside the write lock, so this only fires if some writer skipped it.
      if (isUniqueViolation(error)) {
        throw new WrongExpectedVersionError(streamName, expected, this.currentVersion(streamName));
      }
      throw error;
    }

    const last = stored[stored.length - 1]!;
    return { version: String(last.streamIndex) as StreamVersion, events: stored };
  }

  async readStream(streamName: string): Promise<ReadStreamResult> {
    this.assertOpen();
    // One statement, one snapshot: the version always matches the events.
    const events = this.streamStmt.all(streamName).map(toRecorded);
    const last = events[events.length - 1];
    return { events, version: last === undefined ? null : (String(last.streamIndex) as StreamVersion) };
  }

  async readAll(options: { after?: number; limit?: number } = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    return this.readAfter(options.after ?? 0, options.limit);
  }

  async readAllOfTypes(types: readonly string[], options: { after?: number; limit?: number } = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const after = options.after ?? 0;
    checkPage(after, options.limit);
    const key = JSON.stringify(types);
    let statement = this.typedStmts.get(key);
    if (statement === undefined) {
      // The type list travels as one JSON parameter: one prepared statement per list, no SQL built from values.
      statement = this.db.prepare<[number, string, number], EventRow>(
        'SELECT * FROM events WHERE position > ? AND type IN (SELECT value FROM json_each(?)) ORDER BY position LIMIT ?',
      );
      this.typedStmts.set(key, statement);
    }
    return decodeRows(statement.all(after, key, options.limit ?? -1));
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return (this.db.prepare('SELECT MAX(position) AS head FROM events').get() as { head: number | null }).head ?? 0;
  }

  subscribeToAll(
    handler: (event: RecordedEvent) => Promise<void> | void,
    options: SubscribeOptions = {},
  ): Subscription {
    this.assertOpen();
    const subscription = new CatchUpSubscription(
      (after, limit) => this.readAfterForFollower(after, limit),
      handler,
      options,
      () => this.removeSubscription(subscription),
    );
    this.subscriptions.add(subscription);
    // Appends through this instance wake subscriptions at once; appends through other
    // connections are only seen by polling.
    this.poller ??= setInterval(() => {
      this.othersMayHaveCommitted = true;
      for (const s of this.subscriptions) s.notify();
    }, POLL_INTERVAL_MS).unref();
    return subscription;
  }

  /** Group commit so far (sqlite-group-commit.ts): transactions committed, and the appends they carried. */
  commitStats(): { commits: number; appends: number } {
    return this.commits.stats();
  }

  /**
   * The journal mode and `PRAGMA synchronous` (1 NORMAL, 2 FULL) in effect on this store's own
   * connection, read from SQLite rather than from the options, and whether the store fsyncs the
   * WAL before an append resolves (`full`): together, what an append actually waits for.
   */
  durability(): { journalMode: string; synchronous: number; walFsyncBeforeResolve: boolean } {
    this.assertOpen();
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.db.pragma('synchronous', { simple: true })),
      walFsyncBeforeResolve: this.walSync !== undefined,
    };
  }

  async ping(): Promise<void> {
    this.assertOpen();
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.commits.flush();
    await this.commits.settled();
    // Subscriptions must be done reading before the connection goes away.
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.walSync?.close();
    this.db.close();
  }

  /**
   * `readAfter` for a subscription: from the recent tail while no other connection has committed.
   * Whether one has is read from `data_version` once per poll (every POLL_INTERVAL_MS), not at
   * each commit: another connection's commit can land after any read of it anyway, and what it
   * appended is found at the followers' next poll, or at once when this connection's next commit
   * does not follow the tail.
   */
  private readAfterForFollower(after: number, limit: number | undefined): RecordedEvent[] {
    if (this.othersMayHaveCommitted) {
      this.othersMayHaveCommitted = false;
      const dataVersion = this.dataVersionStmt.get()!.data_version;
      if (dataVersion !== this.tailDataVersion) {
        this.tail.clear();
        this.tailDataVersion = dataVersion;
      }
    }
    return this.tail.after(after, limit) ?? this.readAfter(after, limit);
  }

  private readAfter(after: number, limit: number | undefined): RecordedEvent[] {
    checkPage(after, limit);
    // LIMIT -1 is SQLite for "no limit".
    return decodeRows(this.afterStmt.all(after, limit ?? -1));
  }

  private currentVersion(streamName: string): StreamVersion | null {
    const last = this.lastIndexStmt.get(streamName)?.last ?? null;
    return last === null ? null : (String(last) as StreamVersion);
  }

  private removeSubscription(subscription: CatchUpSubscription): void {
    this.subscriptions.delete(subscription);
    if (this.subscriptions.size === 0 && this.poller !== undefined) {
      clearInterval(this.poller);
      this.poller = undefined;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

function checkPage(after: number, limit: number | undefined): void {
  if (!Number.isFinite(after)) throw new RangeError(`after must be a finite number, got ${after}`);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
}

/** Rows of one page, decoded; at an undecodable row, the good ones before it (the next read starts at it and fails). */
function decodeRows(rows: EventRow[]): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (const row of rows) {
    try {
      events.push(toRecorded(row));
    } catch (error) {
      if (events.length > 0) return events;
      throw new UndecodableEventError(row.position, row.stream_name, error);
    }
  }
  return events;
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    streamName: row.stream_name,
    streamIndex: row.stream_index,
    position: row.position,
    type: row.type,
    schemaVersion: row.schema_version,
    hash: row.hash,
    data: row.data === null ? undefined : JSON.parse(row.data),
    metadata: row.metadata === null ? undefined : JSON.parse(row.metadata),
  };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
