/**
 * The process the SQLite process-kill test kills: opens the store at argv[2] with
 * `synchronous` argv[3], then appends one event at a time to the stream argv[4], forever, and
 * prints `appended <stream index> <position>` the moment each append has resolved (stdout to a
 * pipe is synchronous on Linux, so the line is out before the next append starts). It never
 * closes the store or exits by itself: the test SIGKILLs it, so nothing but the appends
 * themselves can have made the events durable.
 */
import { createHash } from 'node:crypto';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { parseSqliteSynchronous } from '../../infra/event-store/sqlite-synchronous.js';
import type { NewEvent, StreamVersion } from '../../infra/event-store/port.js';

const [file, synchronous, streamName] = process.argv.slice(2);
if (file === undefined || synchronous === undefined || streamName === undefined) {
  throw new Error('usage: event-store-kill-child <file> <full|normal> <stream>');
}

function event(n: number): NewEvent {
  const data = { n };
  const metadata = { note: 'killed mid-stream' };
  const hash = createHash('sha256').update(JSON.stringify({ type: 'Appended', data, metadata })).digest('hex');
  return { type: 'Appended', schemaVersion: 1, data, metadata, hash };
}

const store = SqliteEventStore.open(file, { synchronous: parseSqliteSynchronous(synchronous) });
let version: StreamVersion | 'no_stream' = 'no_stream';
for (let n = 0; ; n++) {
  const { version: next, events } = await store.append(streamName, [event(n)], version);
  version = next;
  const [recorded] = events;
  process.stdout.write(`appended ${recorded?.streamIndex} ${recorded?.position}\n`);
}
