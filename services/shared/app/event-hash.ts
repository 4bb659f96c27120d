import { createHash, hash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * The versions of the event hash (DESIGN §4, tamper evidence). An event says which one it was
 * hashed with in `metadata.hashVersion`; absent means 1, so every log written before version 2
 * still parses and verifies.
 *
 * - 1: SHA-256 over the canonical form of { type, schemaVersion, data, metadata }; the first
 *   event of a stream has `previousHash: null`. It does not say where the event stands: a copy
 *   under another stream name verifies, and a stream's first event is chained to nothing.
 * - 2: the same, plus the stream name and the event's index in its stream; the first event of a
 *   stream is chained to its tenant's genesis value (`genesisHash`).
 */
export const HASH_VERSIONS = [1, 2] as const;
export type HashVersion = (typeof HASH_VERSIONS)[number];

/** What the command handler writes today. */
export const CURRENT_HASH_VERSION = 2 satisfies HashVersion;

export interface HashableEvent {
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: unknown;
}

/** An event together with where it stands in the log, as version 2 commits to it. */
export interface PlacedEvent extends HashableEvent {
  streamName: string;
  /** 0-based index of the event in its stream. */
  streamIndex: number;
}

/**
 * Version 1: SHA-256 (hex) over the RFC 8785 canonical JSON of what an event says. Kept
 * byte-for-byte as it was, so that events written before version 2 keep verifying.
 */
export function eventHash(event: HashableEvent): string {
  return sha256Canonical({
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
  });
}

/**
 * Version 2: SHA-256 (hex) over the RFC 8785 canonical JSON of
 * `{ streamName, streamIndex, type, schemaVersion, data, metadata }`, where the metadata says
 * `hashVersion: 2` and, for the stream's first event, `previousHash: genesisHash(tenant)`.
 *
 * Committing to the stream name and index makes an event copied under another stream, or moved
 * within its own, fail to verify. The metadata is hashed whole, so the version label is itself
 * covered. The preimage has six top-level keys where version 1's has four, so no preimage of
 * one version is a preimage of the other.
 */
export function eventHashV2(event: PlacedEvent): string {
  const declared = (event.metadata as { hashVersion?: unknown } | null | undefined)?.hashVersion;
  if (declared !== 2) throw new Error(`a version 2 hash needs metadata.hashVersion 2, got ${String(declared)}`);
  if (!Number.isSafeInteger(event.streamIndex) || event.streamIndex < 0) {
    throw new RangeError(`stream index must be a non-negative integer, got ${event.streamIndex}`);
  }
  return sha256Canonical({
    streamName: event.streamName,
    streamIndex: event.streamIndex,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
  });
}

/** The hash of `event` under `version`; version 2 needs the event's place in the log. */
export function eventHashFor(version: HashVersion, event: PlacedEvent): string {
  return version === 1 ? eventHash(event) : eventHashV2(event);
}

/** Domain separation for the genesis value: no event hash or other digest of ours starts so. */
const GENESIS_DOMAIN = 'idp/event-hash/v2/genesis';

/**
 * The value the first event of every stream of `tenant` carries as `previousHash` under hash
 * version 2: SHA-256 (hex) of the UTF-8 bytes of `idp/event-hash/v2/genesis:<tenant>`.
 *
 * Per tenant, not per stream: the event hash already commits to the stream name and index 0,
 * so the genesis only has to make "this is where the stream begins" an explicit, checkable
 * claim (a stream whose first event was dropped now starts on an event that points at a real
 * predecessor, not at the genesis) and to keep one tenant's chains from starting where
 * another's do. It is public and needs no key: anyone holding the tenant id can recompute it.
 * A tenant id is `[a-z0-9_]` only (contracts/tenant.ts), so the ':' makes the input unambiguous.
 */
export function genesisHash(tenant: string): string {
  if (!/^[a-z0-9_]+$/.test(tenant)) throw new Error(`not a tenant id: ${JSON.stringify(tenant)}`);
  return createHash('sha256').update(`${GENESIS_DOMAIN}:${tenant}`, 'utf8').digest('hex');
}

function sha256Canonical(value: unknown): string {
  const canonical = canonicalize(value);
  if (canonical === undefined) throw new Error('event is not serialisable');
  return hash('sha256', canonical, 'hex');
}
