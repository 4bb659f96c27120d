import { SqliteEventStore } from '../../../infra/event-store/sqlite.js';
import { verifyLog } from '../../../services/shared/integrity/verify-log.js';

/**
 * `node verify-main.js <file.db>`: every stream's hash chain of a SQLite log, with LogVerifier
 * (services/shared/integrity/verify-log.ts), what `idp verify` walks; prints the report as JSON.
 * Its own process, so the benchmark reads its peak RSS apart from the rebuild's.
 */
const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: verify-main.js <file.db>');
const store = SqliteEventStore.openReadOnly(file);
const report = await verifyLog(store, { pageSize: 5_000 });
await store.close();
process.stdout.write(`${JSON.stringify({ ok: report.ok, eventsChecked: report.eventsChecked, streamsChecked: report.streamsChecked, failureCount: report.failureCount })}\n`);
process.exitCode = report.ok ? 0 : 1;
