import fs from 'node:fs';
import path from 'node:path';

/**
 * The fsync of `synchronous=full`, taken off the event loop (issue 12). SQLite commits with
 * `PRAGMA synchronous=NORMAL` (the WAL is written, not fsynced), and before any append of the
 * commit resolves, this fsyncs the WAL file on libuv's thread pool: so an acknowledged append is
 * on disk exactly as with FULL, but the event loop goes on serving requests while the disk
 * works, and one fsync covers every commit made before it started (a second group commit, over
 * commits). What differs from FULL: another request may read a committed event a moment before
 * it is on disk; nothing that depends on it is acknowledged before it is (its own append waits
 * for a later fsync), and a power loss in between loses only unacknowledged work.
 */
export class WalSync {
  private fd: number | undefined;
  /** The fsync running now. */
  private current: Promise<void> | undefined;
  /** The fsync to start when the current one ends: it covers what was written meanwhile. */
  private queued: Promise<void> | undefined;

  constructor(private readonly databaseFile: string) {}

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.current) return (this.current = this.run());
    const after = this.current;
    this.queued = after
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        this.current = this.run();
        return this.current;
      });
    return this.queued;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private run(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      let fd: number;
      try {
        fd = this.open();
      } catch (error) {
        reject(error);
        return;
      }
      // fdatasync (POSIX): the data and what reading it back needs (its size), not the file's
      // times, which nothing reads; the directory entry is fsynced once, below.
      fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()));
    });
    const clear = () => {
      if (this.current === done) this.current = undefined;
    };
    done.then(clear, clear);
    return done;
  }

  /**
   * The WAL file exists once the connection has committed in WAL mode. On first use its
   * directory is fsynced too, so that the file's name survives a power loss.
   */
  private open(): number {
    if (this.fd === undefined) {
      this.fd = fs.openSync(`${this.databaseFile}-wal`, 'r');
      const dir = fs.openSync(path.dirname(this.databaseFile), 'r');
      try {
        fs.fsyncSync(dir);
      } finally {
        fs.closeSync(dir);
      }
    }
    return this.fd;
  }
}
