import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore, RecordedEvent } from '../../infra/event-store/port.js';
import { readOnlyView } from '../../infra/event-store/read-only.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { writeLog } from '../support/hash-chain.js';

/**
 * readAllOfTypes and headPosition (what `idp rebuild` reads with, where the adapter has them): the
 * same events as readAll filtered by type, in `$all` order, paged alike; the head is the last position.
 */
const dir = mkdtempSync(join(tmpdir(), 'idp-read-types-'));
const cases: Array<[string, () => EventStore]> = [
  ['in-memory', () => new InMemoryEventStore()],
  ['SQLite', () => SqliteEventStore.open(join(dir, 'idp.db'))],
];

describe.each(cases)('readAllOfTypes and headPosition, %s', (_name, open) => {
  let store: EventStore;
  let log: RecordedEvent[];
  beforeAll(async () => {
    store = open();
    await writeLog(store);
    await store.append('other-stream', [{ type: 'other.happened', schemaVersion: 1, data: { n: 1 }, metadata: {}, hash: 'a'.repeat(64) }], 'no_stream');
    log = await store.readAll();
  });
  afterAll(async () => {
    await store.close();
  });

  it('gives what readAll gives, filtered, and pages by position', async () => {
    const view = readOnlyView(store);
    expect(await view.headPosition!()).toBe(log[log.length - 1]!.position);
    expect(await view.readAllOfTypes!(['other.happened'])).toEqual(log.filter((e) => e.type === 'other.happened'));
    const consents = log.filter((e) => e.type === 'consent.granted');
    expect(consents.length).toBeGreaterThan(2);
    expect(await view.readAllOfTypes!(['consent.granted', 'nothing.such'])).toEqual(consents);
    const page = await view.readAllOfTypes!(['consent.granted'], { after: consents[0]!.position, limit: 2 });
    expect(page).toEqual(consents.slice(1, 3));
    expect(await view.readAllOfTypes!([])).toEqual([]);
    expect(await view.readAllOfTypes!(["consent.granted') OR 1=1 --"])).toEqual([]);
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
