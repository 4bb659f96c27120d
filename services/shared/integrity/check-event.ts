import { EventMetadata } from '../../../contracts/events/metadata.js';
import { parseStreamName, STREAM_OWNERS, aggregateOfStream } from '../../../contracts/streams.js';
import type { RecordedEvent } from '../../../infra/event-store/port.js';
import { eventHashFor, genesisHash, HASH_VERSIONS, type HashVersion } from '../app/event-hash.js';

/**
 * Why an event fails verification (DESIGN §4, tamper evidence). One event may fail for several
 * reasons at once (an event moved to the front of another stream: index and hash).
 */
export const FAILURE_REASONS = [
  /** The stored hash is not the hash of the event as stored: it was edited or moved. */
  'hash_mismatch',
  /** `previousHash` is not the stored hash of the stream's previous event. */
  'broken_chain',
  /** The stream's first event is not chained to the start: not the genesis under v2, not null under v1. */
  'wrong_genesis',
  /** The stream index skips ahead of the next expected one: events are missing. */
  'index_gap',
  /** The stream index was seen before in this stream. */
  'index_duplicate',
  /** The metadata's tenant is not the tenant in the stream name. */
  'tenant_mismatch',
  /** The stream name is not `<aggregate>-<tenant>-<id>`, so it names no tenant. */
  'bad_stream_name',
  /**
   * `metadata.service` is not the service that owns the stream's aggregate (contracts/streams.ts
   * `STREAM_OWNERS`), or no aggregate writes such a stream: the event is not its owner's.
   */
  'not_stream_owner',
  /** A version 1 event after a version 2 event of the same stream: the writer never goes back. */
  'hash_version_downgrade',
  /** `metadata.hashVersion` names no version this code knows; the hash cannot be checked. */
  'unknown_hash_version',
  /** The metadata does not parse as contracts/events/metadata.ts; the hash cannot be checked. */
  'malformed_metadata',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface IntegrityFailure {
  reason: FailureReason;
  streamName: string;
  streamIndex: number;
  /** Position in `$all`. */
  position: number;
  /** From the metadata; null when the metadata holds none. */
  eventId: string | null;
  /** For a human: what was expected and what was found. */
  detail: string;
}

/**
 * What verification keeps per stream, and no more, so that a whole log is checked in memory
 * proportional to its number of streams, not its number of events.
 */
export interface StreamChainState {
  /** The stream index the next event must have. */
  nextIndex: number;
  /** The stored hash of the last event seen: what the next event's `previousHash` must be. */
  lastHash: string;
  /** The highest hash version seen so far in the stream; null if none could be read. */
  highestVersion: HashVersion | null;
}

export interface EventCheck {
  /** The stream's state after this event. */
  state: StreamChainState;
  failures: IntegrityFailure[];
  /** The hash version the event declares; null when it is unknown or the metadata is malformed. */
  version: HashVersion | null;
}

/**
 * Checks one event against the state of its stream so far (undefined: the first event seen of
 * that stream). Pure. The state moves on to the event's stored hash even when it fails, so that
 * one edited event is reported once rather than taking every later event of its stream with it.
 */
export function checkEvent(state: StreamChainState | undefined, event: RecordedEvent): EventCheck {
  const failures: IntegrityFailure[] = [];
  const eventId = eventIdOf(event.metadata);
  const fail = (reason: FailureReason, detail: string): void => {
    failures.push({
      reason,
      streamName: event.streamName,
      streamIndex: event.streamIndex,
      position: event.position,
      eventId,
      detail,
    });
  };

  // Its place: indexes run 0, 1, 2, … in every stream.
  const expectedIndex = state?.nextIndex ?? 0;
  if (event.streamIndex > expectedIndex) {
    fail('index_gap', `expected stream index ${expectedIndex}, found ${event.streamIndex}`);
  } else if (event.streamIndex < expectedIndex) {
    fail('index_duplicate', `stream index ${event.streamIndex} again; expected ${expectedIndex}`);
  }
  const next: StreamChainState = {
    nextIndex: Math.max(expectedIndex, event.streamIndex + 1),
    lastHash: event.hash,
    highestVersion: state?.highestVersion ?? null,
  };

  // The version decides how to hash: read it before trusting anything else.
  const declared = (isObject(event.metadata) ? event.metadata : {}).hashVersion;
  const version = declared === undefined ? 1 : HASH_VERSIONS.find((v) => v === declared);
  if (version === undefined) {
    fail('unknown_hash_version', `metadata.hashVersion is ${JSON.stringify(declared)}`);
    return { state: next, failures, version: null };
  }
  const parsed = EventMetadata.safeParse(event.metadata);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail('malformed_metadata', issue ? `${issue.path.join('.') || 'metadata'}: ${issue.message}` : 'does not parse');
    return { state: next, failures, version: null };
  }
  const metadata = parsed.data;

  if (state?.highestVersion === 2 && version === 1) {
    fail('hash_version_downgrade', 'a version 1 event after a version 2 event of the same stream');
  }
  next.highestVersion = Math.max(version, next.highestVersion ?? 0) as HashVersion;

  // The tenant is in the name and in the metadata; they must agree (the genesis uses the name's).
  const place = parseStreamName(event.streamName);
  if (!place) fail('bad_stream_name', 'not <aggregate>-<tenant>-<id>');
  else if (place.tenant !== metadata.tenant) {
    fail('tenant_mismatch', `metadata says tenant ${metadata.tenant}, the stream name ${place.tenant}`);
  }

  // DESIGN §3: only the owner appends to an aggregate's streams, and says so in the metadata.
  if (place) {
    const aggregate = aggregateOfStream(event.streamName);
    if (aggregate === null) fail('not_stream_owner', `no aggregate writes streams named ${place.aggregate}-…; metadata.service is ${metadata.service}`);
    else if (STREAM_OWNERS[aggregate] !== metadata.service) {
      fail('not_stream_owner', `metadata.service is ${metadata.service}, the ${aggregate} stream's owner is ${STREAM_OWNERS[aggregate]}`);
    }
  }

  if (state === undefined) {
    const start = version === 1 ? null : genesisHash(place?.tenant ?? metadata.tenant);
    if (metadata.previousHash !== start) {
      fail('wrong_genesis', `first event of the stream: previousHash ${metadata.previousHash}, expected ${start}`);
    }
  } else if (metadata.previousHash !== state.lastHash) {
    fail('broken_chain', `previousHash ${metadata.previousHash}, the previous event's hash is ${state.lastHash}`);
  }

  let computed: string;
  try {
    computed = eventHashFor(version, event);
  } catch (error) {
    computed = `(cannot hash: ${error instanceof Error ? error.message : String(error)})`;
  }
  if (computed !== event.hash) fail('hash_mismatch', `stored ${event.hash}, computed ${computed} (version ${version})`);

  return { state: next, failures, version };
}

function eventIdOf(metadata: unknown): string | null {
  const id = isObject(metadata) ? metadata.eventId : undefined;
  return typeof id === 'string' ? id : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
