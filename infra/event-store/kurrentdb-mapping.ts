/**
 * How the KurrentDB adapter (kurrentdb.ts) maps between our port and the official client: the
 * connection string, events both ways, expected versions, `$all` positions and append results.
 * Pure functions, tested without a server (test/contract/event-store.kurrentdb.test.ts).
 */
import { randomUUID } from 'node:crypto';
import {
  ANY,
  NO_STREAM,
  START,
  type AppendStreamState,
  type CurrentStreamState,
  type JSONEventData,
  type JSONType,
  type Position,
  type ReadPosition,
} from '@kurrent/kurrentdb-client';
import type { ExpectedVersion, NewEvent, RecordedEvent, StreamVersion } from './port.js';
import { eventIdOf } from './event-id.js';

const SCHEMES = /^(kurrentdb|kurrent|kdb|esdb)(\+discover)?:\/\//;
/** The largest uint64, which the server sends for "no position". */
const NO_POSITION = 2n ** 64n - 1n;

/**
 * The connection string as the client should get it: `esdb://` (EventStoreDB's scheme, which the
 * client still parses but warns about on every connect) becomes `kurrentdb://`. Anything that is
 * not a KurrentDB scheme is refused here, with a message that names the accepted ones.
 */
export function normaliseConnectionString(connectionString: string): string {
  const trimmed = connectionString.trim();
  const scheme = SCHEMES.exec(trimmed);
  if (scheme === null) {
    throw new Error(
      `not a KurrentDB connection string: "${connectionString}" (use kurrentdb://host:2113?tls=false, kurrentdb+discover://…, or esdb://…)`,
    );
  }
  return scheme[1] === 'esdb' ? `kurrentdb${trimmed.slice('esdb'.length)}` : trimmed;
}

/** What the adapter keeps in the event's custom metadata next to the caller's own metadata. */
interface StoredMetadata {
  schemaVersion: number;
  hash: string;
  metadata?: unknown;
  /** Set when `data` was undefined, which JSON cannot say by itself (the data is then `null`). */
  noData?: true;
}

/** The fields of the client's recorded event that the mapping reads (stream reads, `$all`, subscriptions). */
export interface KurrentRecordedEvent {
  streamId: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
  position?: Position;
}

/**
 * Our event as the client's JSON event: type and data as they are, and schema version, hash and
 * the caller's metadata in the custom metadata. The event id is the UUID in `metadata.eventId`
 * when there is one, so that a retried append is recognised by the server as the same write.
 */
export function toEventData(event: NewEvent): JSONEventData {
  // Serialised here rather than by the client, so that a value JSON cannot hold fails before
  // anything is sent, and later changes to the caller's objects cannot reach the write.
  const data = jsonCopy(event.data);
  const metadata: StoredMetadata = { schemaVersion: event.schemaVersion, hash: event.hash, metadata: jsonCopy(event.metadata) };
  if (data === undefined) metadata.noData = true;
  return {
    id: eventIdOf(event.metadata) ?? randomUUID(),
    contentType: 'application/json',
    type: event.type,
    data: (data ?? null) as JSONType,
    metadata: metadata as unknown as JSONType,
  };
}

/** The client's recorded event as ours; the inverse of `toEventData`. */
export function fromRecordedEvent(recorded: KurrentRecordedEvent, streamPrefix = ''): RecordedEvent {
  const stored = recorded.metadata as Partial<StoredMetadata> | undefined;
  if (
    typeof stored !== 'object' ||
    stored === null ||
    typeof stored.schemaVersion !== 'number' ||
    typeof stored.hash !== 'string' ||
    !recorded.streamId.startsWith(streamPrefix)
  ) {
    throw new Error(`event ${recorded.revision} of stream ${recorded.streamId} was not written by this event store`);
  }
  // Servers before 22.6 leave stream reads without a position, or with the "no position" marker.
  if (recorded.position === undefined || recorded.position.commit === NO_POSITION) {
    throw new Error(`the server gave no $all position for stream ${recorded.streamId}: KurrentDB 22.6 or later is needed`);
  }
  return {
    streamName: recorded.streamId.slice(streamPrefix.length),
    streamIndex: toNumber(recorded.revision, 'stream revision'),
    position: toNumber(recorded.position.commit, 'commit position'),
    type: recorded.type,
    schemaVersion: stored.schemaVersion,
    hash: stored.hash,
    data: stored.noData ? undefined : recorded.data,
    metadata: stored.metadata,
  };
}

/** The fields of the client's append result (its `AppendResult`) that say what happened. */
export interface KurrentAppendResult {
  success: boolean;
  nextExpectedRevision: bigint;
}

export type AppendOutcome = { appended: true; lastRevision: bigint } | { appended: false; actual: StreamVersion | null };

/**
 * What an append's result means, whatever `throwOnAppendFailure` says in the connection string.
 * With it (the default) the client throws WrongExpectedVersionError when the expectation fails;
 * with `throwOnAppendFailure=false` it resolves instead, with `success: false` and in
 * `nextExpectedRevision` the stream's revision, or -1 when the stream does not exist
 * (client 1.3.1, streams/appendToStream/append.js). Its batch-append path, taken whenever the
 * server offers batch appends, fills in `BigInt(hasCurrentStreamRevision())` instead: 1 for any
 * stream that exists. So a failed result says reliably whether the stream exists, and its
 * revision is only a hint the adapter replaces by reading the stream. A failed result is never
 * taken for a success: its revision is not the revision of our events.
 */
export function appendOutcome(result: KurrentAppendResult): AppendOutcome {
  if (result.success === true) return { appended: true, lastRevision: result.nextExpectedRevision };
  const revision = result.nextExpectedRevision;
  return { appended: false, actual: revision < 0n ? null : (String(revision) as StreamVersion) };
}

export function toStreamState(expected: ExpectedVersion): AppendStreamState {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (!/^\d+$/.test(expected)) throw new RangeError(`"${expected}" is not a KurrentDB stream version`);
  return BigInt(expected);
}

export function toVersion(state: CurrentStreamState): StreamVersion | null {
  return state === NO_STREAM ? null : (String(state) as StreamVersion);
}

/** Where to read `$all` from for events after `after`: the event at `after` itself, or the start. */
export function readPositionAfter(after: number): ReadPosition {
  if (after <= 0) return START;
  const position = BigInt(Math.floor(after));
  return { commit: position, prepare: position };
}

export function toNumber(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${what} ${value} does not fit in a number`);
  return Number(value);
}

/** A fresh JSON copy of `value`; undefined stays undefined, and what JSON cannot hold throws. */
function jsonCopy(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}
