import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { EventMetadata } from '../../contracts/events/metadata.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore, NewEvent, RecordedEvent } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { genesisHash } from '../../services/shared/app/event-hash.js';
import type { IntegrityFailure } from '../../services/shared/integrity/check-event.js';
import { verifyLog, verifyStream } from '../../services/shared/integrity/verify-log.js';
import {
  appendV1Consents,
  consentStream,
  ctxFor,
  grantConsent,
  verbatim,
  writeLog,
} from '../support/hash-chain.js';

/**
 * The integrity check (DESIGN §4, §9) against real stores, on logs written by the real command
 * handler, then tampered with the way someone with access to the store would.
 */
interface Tamperable {
  store(): EventStore;
  /** Removes the event at `position` from the log. */
  drop(position: number): Promise<void>;
  /** Replaces the data of the event at `position`, leaving its stored hash as it was. */
  editData(position: number, data: unknown): Promise<void>;
  cleanup(): Promise<void>;
}

/** SQLite is edited in place, through a second connection to the same file. */
function sqlite(): Tamperable {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-log-'));
  const file = path.join(dir, 'events.db');
  const store = SqliteEventStore.open(file);
  const tamperer = new Database(file);
  const changeOne = (sql: string, ...params: unknown[]) => {
    expect(tamperer.prepare(sql).run(...params).changes).toBe(1);
  };
  return {
    store: () => store,
    drop: async (position) => changeOne('DELETE FROM events WHERE position = ?', position),
    editData: async (position, data) =>
      changeOne('UPDATE events SET data = ? WHERE position = ?', JSON.stringify(data), position),
    cleanup: async () => {
      tamperer.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The in-memory log cannot be edited in place: the tamperer rewrites it, event by event. */
function memory(): Tamperable {
  let current = new InMemoryEventStore();
  const rewrite = async (transform: (event: RecordedEvent) => NewEvent | null) => {
    const next = new InMemoryEventStore();
    for (const event of await current.readAll()) {
      const kept = transform(event);
      if (kept) await next.append(event.streamName, [kept], 'any');
    }
    await current.close();
    current = next;
  };
  return {
    store: () => current,
    drop: (position) => rewrite((event) => (event.position === position ? null : verbatim(event))),
    editData: (position, data) =>
      rewrite((event) => (event.position === position ? { ...verbatim(event), data } : verbatim(event))),
    cleanup: () => current.close(),
  };
}

const reasons = (failures: IntegrityFailure[]) => failures.map((f) => f.reason).sort();
const eventIdOf = (event: RecordedEvent) => EventMetadata.parse(event.metadata).eventId;

describe.each([
  ['in-memory', memory],
  ['sqlite', sqlite],
])('verifyLog on the %s event store', (_name, open) => {
  let log: Tamperable;
  beforeEach(() => {
    log = open();
  });
  afterEach(() => log.cleanup());

  it('passes an untouched log written by the command handler, all in hash version 2', async () => {
    const { alice, bob, otherAlice } = await writeLog(log.store());
    const report = await verifyLog(log.store());
    expect(report).toEqual({
      ok: true,
      eventsChecked: 7,
      streamsChecked: 3,
      eventsByHashVersion: { 1: 0, 2: 7 },
      lastPosition: (await log.store().readAll()).at(-1)!.position,
      failureCount: 0,
      failures: [],
    });
    for (const stream of [alice, bob, otherAlice]) {
      const { events } = await log.store().readStream(stream);
      expect(verifyStream(events)).toMatchObject({ ok: true, eventsChecked: events.length, streamsChecked: 1 });
    }
    // Each stream starts at its own tenant's genesis.
    const first = (await log.store().readStream(otherAlice)).events[0]!;
    expect(EventMetadata.parse(first.metadata).previousHash).toBe(genesisHash('other'));
  });

  it('reads $all page by page and reports progress', async () => {
    await writeLog(log.store());
    const progress: number[] = [];
    const report = await verifyLog(log.store(), { pageSize: 2, onProgress: (p) => progress.push(p.eventsChecked) });
    expect(report).toMatchObject({ ok: true, eventsChecked: 7 });
    expect(progress).toEqual([2, 4, 6, 7]);

    const head = (await log.store().readAll()).at(4)!.position;
    const upToHead = await verifyLog(log.store(), { pageSize: 3, upTo: head });
    expect(upToHead).toMatchObject({ ok: true, eventsChecked: 5, lastPosition: head });
  });

  it('fails an event copied under another stream name, naming the copy', async () => {
    const { alice } = await writeLog(log.store());
    const original = (await log.store().readStream(alice)).events[0]!;
    const elsewhere = consentStream('acme', 'mallory');
    const [copy] = (await log.store().append(elsewhere, [verbatim(original)], 'no_stream')).events;

    const report = await verifyLog(log.store());
    // Same tenant, index 0, chained to the genesis: only the stream name it commits to gives it away.
    expect(report.failures).toEqual([
      {
        reason: 'hash_mismatch',
        streamName: elsewhere,
        streamIndex: 0,
        position: copy!.position,
        eventId: eventIdOf(original),
        detail: expect.stringContaining(original.hash),
      },
    ]);
    expect(report).toMatchObject({ ok: false, failureCount: 1, eventsChecked: 8, streamsChecked: 4 });
  });

  it('fails a stream whose first event was dropped', async () => {
    const { alice } = await writeLog(log.store());
    await log.drop((await log.store().readStream(alice)).events[0]!.position);

    const report = await verifyLog(log.store());
    expect(report.ok).toBe(false);
    expect(report.failures.every((f) => f.streamName === alice)).toBe(true);
    expect(reasons(report.failures)).toContain('wrong_genesis');
    expect(report.eventsChecked).toBe(6);
    expect(verifyStream((await log.store().readStream(alice)).events).ok).toBe(false);
  });

  it('fails an event whose data was edited, and only that one', async () => {
    const { alice } = await writeLog(log.store());
    const target = (await log.store().readStream(alice)).events[1]!;
    await log.editData(target.position, { sub: 'sub-1', clientId: 'client-1', scopes: ['openid', 'email', 'admin'] });

    const report = await verifyLog(log.store());
    expect(report.failures).toEqual([
      expect.objectContaining({ reason: 'hash_mismatch', streamName: alice, streamIndex: 1, eventId: eventIdOf(target) }),
    ]);
  });

  it('still verifies a log written entirely in hash version 1', async () => {
    const alice = consentStream('acme', 'alice');
    const bob = consentStream('acme', 'bob');
    await appendV1Consents(log.store(), alice, 'acme', [['openid'], ['openid', 'email']]);
    await appendV1Consents(log.store(), bob, 'acme', [['openid']]);
    await appendV1Consents(log.store(), alice, 'acme', [['openid', 'email', 'phone']]);

    const report = await verifyLog(log.store());
    expect(report).toMatchObject({ ok: true, eventsChecked: 4, streamsChecked: 2, eventsByHashVersion: { 1: 4, 2: 0 } });
    // And it is no vacuous pass: an edit is seen under version 1 too.
    const third = (await log.store().readStream(alice)).events[2]!;
    await log.editData(third.position, { sub: 'sub-1', clientId: 'client-1', scopes: ['x'] });
    expect(reasons((await verifyLog(log.store())).failures)).toEqual(['hash_mismatch']);
  });

  it('verifies a stream of version 1 events continued in version 2 by the command handler', async () => {
    const alice = consentStream('acme', 'alice');
    const [, lastV1] = await appendV1Consents(log.store(), alice, 'acme', [['openid'], ['openid', 'email']]);
    const [firstV2] = await grantConsent(log.store(), alice, ['phone']);
    await grantConsent(log.store(), alice, ['profile']);

    const metadata = EventMetadata.parse(firstV2!.metadata);
    expect(metadata).toMatchObject({ hashVersion: 2, previousHash: lastV1!.hash });
    expect(firstV2!.streamIndex).toBe(2);
    expect(await verifyLog(log.store())).toMatchObject({ ok: true, eventsByHashVersion: { 1: 2, 2: 2 } });
  });

  it('fails a version 1 event after a version 2 event of the same stream (a downgrade)', async () => {
    const alice = consentStream('acme', 'alice');
    await grantConsent(log.store(), alice, ['openid']);
    // Correctly chained and correctly hashed under version 1: only the downgrade is wrong.
    const [v1] = await appendV1Consents(log.store(), alice, 'acme', [['openid', 'email']]);

    expect((await verifyLog(log.store())).failures).toEqual([
      expect.objectContaining({ reason: 'hash_version_downgrade', streamName: alice, streamIndex: 1, position: v1!.position }),
    ]);
  });

  it('fails events whose metadata names another tenant than their stream', async () => {
    const stream = consentStream('other', 'alice');
    await grantConsent(log.store(), stream, ['openid'], ctxFor('acme'));

    // The writer chained it to the genesis of the tenant it believed in, not the stream's.
    expect(reasons((await verifyLog(log.store())).failures)).toEqual(['tenant_mismatch', 'wrong_genesis']);
  });
});
