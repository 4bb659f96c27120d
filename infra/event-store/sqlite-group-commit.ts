import type Database from 'better-sqlite3';
import { sqliteCommits, sqliteGroupedAppends } from '../metrics/metrics.js';

/**
 * Group commit for the SQLite log (issue 12): the appends submitted while the event loop runs
 * one turn are written in one write transaction, so they share one commit, and one fsync
 * (`durable`, sqlite-wal-sync.ts, which also covers every other commit made before it started),
 * instead of one each. Each append still runs in its own savepoint:
 * one that fails (a wrong expected version, a check of `appendWith`) rolls back alone and its
 * caller alone gets the error; the others commit. Every caller's promise settles only after the
 * commit, so a response never goes out before its event is durable, and a failed commit fails
 * every caller of the batch.
 *
 * Appends to one stream in one batch see each other, in submission order: of two racing
 * appends with the same expected version, the second fails its version check, exactly as if it
 * had come in a transaction of its own.
 */
interface Submitted {
  /** Runs inside the batch's transaction; a better-sqlite3 transaction function nests as a savepoint. */
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

export class GroupCommit {
  private queue: Submitted[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly batch: Database.Transaction<(items: Submitted[]) => void>;
  private readonly counts = { commits: 0, appends: 0 };

  /** Commits whose callers still wait for `durable`. */
  private readonly syncing = new Set<Promise<void>>();

  constructor(
    db: Database.Database,
    /** Called once after each commit is durable, with what each successful work returned, in order (before the callers hear of it). */
    private readonly onCommitted: (values: unknown[]) => void,
    /** Resolves once what was committed is on disk; absent: a commit is as durable as SQLite made it. */
    private readonly durable?: () => Promise<void>,
  ) {
    this.batch = db.transaction((items: Submitted[]) => {
      for (const item of items) {
        try {
          item.outcome = { ok: true, value: item.work() };
        } catch (error) {
          item.outcome = { ok: false, error };
        }
      }
    });
  }

  /** Runs `work` in the next batch; resolves with what it returned once the batch has committed. */
  submit<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits so far, and the appends they carried (failed ones included). */
  stats(): { commits: number; appends: number } {
    return { ...this.counts };
  }

  /** Writes what is queued now (also before the connection closes). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const items = this.queue;
    this.queue = [];
    if (items.length === 0) return;
    try {
      this.batch.immediate(items);
    } catch (error) {
      // The commit itself failed (disk full, busy past the timeout): nothing of the batch is written.
      for (const item of items) item.reject(error);
      return;
    }
    this.counts.commits++;
    this.counts.appends += items.length;
    sqliteCommits.inc();
    sqliteGroupedAppends.inc(items.length);
    const values = items.flatMap((item) => (item.outcome?.ok ? [item.outcome.value] : []));
    // What rolled back is answered at once; what committed once it is durable.
    for (const item of items) if (!item.outcome!.ok) item.reject((item.outcome as { error: unknown }).error);
    const settle = () => {
      if (values.length > 0) this.onCommitted(values);
      for (const item of items) if (item.outcome!.ok) item.resolve((item.outcome as { value: unknown }).value);
    };
    if (!this.durable || values.length === 0) {
      settle();
      return;
    }
    const synced = this.durable().then(settle, (error: unknown) => {
      // Committed but not known to be on disk: no caller may answer as if it were.
      for (const item of items) if (item.outcome!.ok) item.reject(error);
    });
    this.syncing.add(synced);
    void synced.finally(() => this.syncing.delete(synced));
  }

  /** Resolves once every commit so far has been made durable and answered. */
  async settled(): Promise<void> {
    await Promise.all([...this.syncing]);
  }
}
