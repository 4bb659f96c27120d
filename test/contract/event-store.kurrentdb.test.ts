import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import {
  KurrentDbEventStore,
  appendOutcome,
  fromRecordedEvent,
  normaliseConnectionString,
  toEventData,
} from '../../infra/event-store/kurrentdb.js';
import { freePort, startKurrentDb } from '../support/servers.js';
import { describeEventStoreContract, newEvent } from './event-store.contract.js';

const server = await startKurrentDb();

if (server) {
  // One server for the whole file; a fresh stream prefix gives each test an empty store of its own.
  describeEventStoreContract(`kurrentdb (${server.source})`, async () => {
    const streamPrefix = `contract-${randomUUID()}-`;
    const store = KurrentDbEventStore.connect(server.url, { streamPrefix });
    return {
      store,
      raceTarget: { kind: 'kurrentdb', connectionString: server.url, streamPrefix },
      cleanup: () => store.close(),
    };
  });
  afterAll(() => server.stop());
} else {
  console.warn(
    [
      '*** The KurrentDB event store contract suite was NOT run: no EVENTSTORE_URL and no Docker engine. ***',
      'Run it against a server with',
      '  EVENTSTORE_URL=kurrentdb://localhost:2113?tls=false npm test',
      'or start a Docker engine and npm test runs KurrentDB in a container.',
      'Only the tests that need no server ran.',
    ].join('\n'),
  );
}

/** What the client does to data and metadata on the way to the server and back: JSON text. */
const overTheWire = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

function roundTrip(event: ReturnType<typeof newEvent>, streamId = 's', streamPrefix = '') {
  const data = toEventData(event);
  return fromRecordedEvent(
    {
      streamId,
      revision: 3n,
      type: data.type,
      data: overTheWire(data.data),
      metadata: overTheWire(data.metadata),
      position: { commit: 1234n, prepare: 1234n },
    },
    streamPrefix,
  );
}

describe('KurrentDbEventStore without a server', () => {
  describe('connection strings', () => {
    it.each([
      ['kurrentdb://localhost:2113?tls=false', 'kurrentdb://localhost:2113?tls=false'],
      ['esdb://localhost:2113?tls=false', 'kurrentdb://localhost:2113?tls=false'],
      ['esdb+discover://a:2113,b:2113', 'kurrentdb+discover://a:2113,b:2113'],
      ['  kdb://admin:changeit@db:2113  ', 'kdb://admin:changeit@db:2113'],
      ['kurrent+discover://db', 'kurrent+discover://db'],
    ])('normalises %s', (given, expected) => {
      expect(normaliseConnectionString(given)).toBe(expected);
    });

    it.each(['nats://localhost:4222', 'http://localhost:2113', 'localhost:2113', ''])('refuses %p', (given) => {
      expect(() => normaliseConnectionString(given)).toThrow(/not a KurrentDB connection string.*kurrentdb:\/\//);
    });

    it('connects with an esdb:// string without the client warning about it', async () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
      try {
        const port = await freePort();
        const store = KurrentDbEventStore.connect(`esdb://127.0.0.1:${port}?tls=false`);
        await store.close();
        expect(warn).not.toHaveBeenCalled();
      } finally {
        warn.mockRestore();
      }
    });

    it('throws at connect on a string the client cannot parse, or a system stream prefix', () => {
      expect(() => KurrentDbEventStore.connect('kurrentdb://localhost:port?tls=false')).toThrow(/port number/);
      expect(() => KurrentDbEventStore.connect('kurrentdb://localhost:2113?tls=false', { streamPrefix: '$x-' })).toThrow(
        /system streams/,
      );
    });
  });

  describe('event mapping', () => {
    it("puts type and data as they are, and schema version, hash and metadata in the event's metadata", () => {
      const event = { ...newEvent('client.registered', { clientId: 'c1' }, { tenant: 'default' }), schemaVersion: 2 };
      expect(toEventData(event)).toStrictEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        contentType: 'application/json',
        type: 'client.registered',
        data: { clientId: 'c1' },
        metadata: { schemaVersion: 2, hash: event.hash, metadata: { tenant: 'default' } },
      });
    });

    it('uses the UUID in metadata.eventId as the event id, so that a retried append is idempotent', () => {
      const eventId = '01890a5d-ac96-774b-bcce-b302099a8057';
      expect(toEventData(newEvent('E', {}, { eventId })).id).toBe(eventId);
      const notAUuid = toEventData(newEvent('E', {}, { eventId: 'x' })).id;
      expect(notAUuid).not.toBe('x');
      expect(notAUuid).not.toBe(toEventData(newEvent('E', {}, { eventId: 'x' })).id);
    });

    it('round-trips type, schema version, hash, data and metadata exactly, key order included', () => {
      const data = {
        nested: { deep: { list: [1, 'two', { three: [null, true, false] }], empty: {}, none: [] } },
        unicode: 'grüße, 日本語, emoji 🔐👩‍💻, quote " backslash \\ nul \u0000',
        numbers: [0, -1, 1.5, -2.25e-7, 1e300, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
        zlast: 1,
        afirst: 2,
      };
      const metadata = { eventId: 'x', tenant: 'ténant', causationId: null };
      const event = { ...newEvent('Exotic.Type-v2', data, metadata), schemaVersion: 7 };

      const read = roundTrip(event, 't-1-s-ü/日本', 't-1-');
      expect(read).toStrictEqual({ ...event, streamName: 's-ü/日本', streamIndex: 3, position: 1234 });
      expect(JSON.stringify(read.data)).toBe(JSON.stringify(data));
      expect(JSON.stringify(read.metadata)).toBe(JSON.stringify(metadata));
    });

    it.each([
      ['undefined', undefined],
      ['null', null],
      ['a string', 'text'],
      ['a number', 42],
      ['an array', [1, { a: 2 }]],
    ])('round-trips %s as data and as metadata', (_, value) => {
      const event = { ...newEvent('E', value), metadata: value };
      expect(roundTrip(event)).toStrictEqual({ ...event, streamName: 's', streamIndex: 3, position: 1234 });
    });

    it('copies what it is given and refuses what JSON cannot hold', () => {
      const data = { list: [1] };
      const proposed = toEventData(newEvent('E', data));
      data.list.push(2);
      expect(proposed.data).toStrictEqual({ list: [1] });
      expect(() => toEventData({ ...newEvent('E', {}), data: { big: 1n } })).toThrow(TypeError);
    });

    it('refuses events it did not write, and positions a number cannot hold', () => {
      const recorded = { streamId: 's', revision: 0n, type: 'E', data: {}, position: { commit: 10n, prepare: 10n } };
      expect(() => fromRecordedEvent({ ...recorded, metadata: { foreign: true } })).toThrow(/not written by this event store/);
      expect(() => fromRecordedEvent({ ...recorded, metadata: undefined })).toThrow(/not written by this event store/);
      expect(() => fromRecordedEvent({ ...recorded, metadata: { schemaVersion: 1, hash: 'h' } }, 'other-')).toThrow(
        /not written by this event store/,
      );

      const ours = { ...recorded, metadata: { schemaVersion: 1, hash: 'h' } };
      expect(() => fromRecordedEvent({ ...ours, position: undefined })).toThrow(/22\.6/);
      const none = 2n ** 64n - 1n;
      expect(() => fromRecordedEvent({ ...ours, position: { commit: none, prepare: none } })).toThrow(/22\.6/);
      const huge = 2n ** 53n;
      expect(() => fromRecordedEvent({ ...ours, position: { commit: huge, prepare: huge } })).toThrow(RangeError);
    });
  });

  describe('append results', () => {
    it('takes a successful result for the revision of the last appended event', () => {
      expect(appendOutcome({ success: true, nextExpectedRevision: 7n })).toStrictEqual({ appended: true, lastRevision: 7n });
      expect(appendOutcome({ success: true, nextExpectedRevision: 0n })).toStrictEqual({ appended: true, lastRevision: 0n });
    });

    // What the client resolves with under throwOnAppendFailure=false instead of throwing.
    it('never takes a failed result for a success, whatever revision it carries', () => {
      expect(appendOutcome({ success: false, nextExpectedRevision: 4n })).toStrictEqual({ appended: false, actual: '4' });
      expect(appendOutcome({ success: false, nextExpectedRevision: 0n })).toStrictEqual({ appended: false, actual: '0' });
      // The batch-append path reports BigInt(true) for any existing stream: a hint, still a failure.
      expect(appendOutcome({ success: false, nextExpectedRevision: 1n })).toMatchObject({ appended: false });
    });

    it('reads -1 in a failed result as "the stream does not exist"', () => {
      expect(appendOutcome({ success: false, nextExpectedRevision: -1n })).toStrictEqual({ appended: false, actual: null });
    });
  });

  describe('lifecycle', () => {
    it('rejects ping within a few seconds when nothing listens on the port', async () => {
      const port = await freePort();
      const store = KurrentDbEventStore.connect(`kurrentdb://127.0.0.1:${port}?tls=false&defaultDeadline=2000`);
      try {
        const started = Date.now();
        await expect(store.ping()).rejects.toThrow();
        expect(Date.now() - started).toBeLessThan(6_000);
      } finally {
        await store.close();
      }
    }, 15_000);

    it('refuses every call after close', async () => {
      const port = await freePort();
      const store = KurrentDbEventStore.connect(`kurrentdb://127.0.0.1:${port}?tls=false`);
      await store.close();
      await expect(store.ping()).rejects.toThrow(/closed/);
      await expect(store.append('s', [newEvent('E', {})], 'any')).rejects.toThrow(/closed/);
      await expect(store.readAll()).rejects.toThrow(/closed/);
      expect(() => store.subscribeToAll(() => {})).toThrow(/closed/);
      await store.close();
    });
  });
});
