import Database from 'better-sqlite3';
import { preparePrivateSqliteFile, type TightenedListener } from '../../files/private-files.js';
import { SealedSchema } from '../envelope.js';
import { DataKeyDestroyedError, DataKeyWrapper, type DataKeyStore } from './port.js';

interface Row {
  wrapped: string | null;
  destroyed_at: string | null;
}

/**
 * Data keys in a SQLite file, wrapped under the KEK. Several connections (processes) may share
 * the file: a key is only ever inserted with INSERT OR IGNORE and read back, so concurrent
 * first uses agree on whichever key won.
 */
export class SqliteDataKeyStore implements DataKeyStore {
  private readonly selectRow: Database.Statement<[string, string], Row>;
  private readonly insertKey: Database.Statement<[string, string, string]>;
  private readonly markDestroyed: Database.Statement<[string, string, string]>;

  private constructor(
    private readonly db: Database.Database,
    private readonly wrapper: DataKeyWrapper,
  ) {
    this.selectRow = db.prepare('SELECT wrapped, destroyed_at FROM data_keys WHERE tenant = ? AND subject = ?');
    this.insertKey = db.prepare('INSERT OR IGNORE INTO data_keys (tenant, subject, wrapped) VALUES (?, ?, ?)');
    this.markDestroyed = db.prepare(
      `INSERT INTO data_keys (tenant, subject, wrapped, destroyed_at) VALUES (?, ?, NULL, ?)
       ON CONFLICT (tenant, subject) DO UPDATE
       SET wrapped = NULL, destroyed_at = COALESCE(destroyed_at, excluded.destroyed_at)`,
    );
  }

  /** The `synchronous` level of this store's connection (2 = FULL), for tests and diagnostics. */
  synchronousLevel(): number {
    return Number(this.db.pragma('synchronous', { simple: true }));
  }

  /** Creates the file (and -wal/-shm) 0600; `onTightened` hears of an existing one that was not. */
  static open(path: string, kek: Buffer, options: { onTightened?: TightenedListener } = {}): SqliteDataKeyStore {
    const wrapper = new DataKeyWrapper(kek);
    if (path !== ':memory:') preparePrivateSqliteFile(path, options.onTightened);
    const db = new Database(path, { timeout: 5000 });
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      // As durable as the log (README, Durability): a data key lost to a power cut would leave
      // the events it seals unreadable. better-sqlite3 defaults to NORMAL in WAL mode.
      db.pragma('synchronous = FULL');
      // Crypto-shredding: overwrite freed bytes, so a destroyed wrapped key leaves no residue.
      db.pragma('secure_delete = ON');
      db.exec(`CREATE TABLE IF NOT EXISTS data_keys (
        tenant TEXT NOT NULL,
        subject TEXT NOT NULL,
        wrapped TEXT NULL,
        destroyed_at TEXT NULL,
        PRIMARY KEY (tenant, subject)
      )`);
      return new SqliteDataKeyStore(db, wrapper);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  async getOrCreate(tenant: string, subject: string): Promise<Buffer> {
    let row = this.selectRow.get(tenant, subject);
    if (!row) {
      const wrapped = this.wrapper.newWrappedKey(tenant, subject);
      this.insertKey.run(tenant, subject, JSON.stringify(wrapped));
      row = this.selectRow.get(tenant, subject);
    }
    const key = row && this.unwrap(tenant, subject, row);
    if (!key) throw new DataKeyDestroyedError(tenant, subject);
    return key;
  }

  async get(tenant: string, subject: string): Promise<Buffer | undefined> {
    const row = this.selectRow.get(tenant, subject);
    return row && this.unwrap(tenant, subject, row);
  }

  async destroy(tenant: string, subject: string): Promise<void> {
    this.markDestroyed.run(tenant, subject, new Date().toISOString());
    // Best effort: move the change out of the WAL so old frames holding the key are dropped.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private unwrap(tenant: string, subject: string, row: Row): Buffer | undefined {
    if (row.destroyed_at !== null || row.wrapped === null) return undefined;
    return this.wrapper.unwrap(tenant, subject, SealedSchema.parse(JSON.parse(row.wrapped)));
  }
}
