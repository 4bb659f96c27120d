import { DependencyUnavailableError } from '../dependency-unavailable.js';

/**
 * The projection store port (DESIGN §6): hot lookups with absolute expiry and a checkpoint.
 *
 * Every key remembers the `$all` position it was written from; a write applies only if its
 * position is strictly greater than the key's, so a lagging or duplicate projector can never
 * move state backwards. A delete leaves a tombstone with its position for the same reason.
 */
export type ProjectionWrite =
  | { kind: 'put'; key: string; value: unknown; /** epoch ms; absent = never expires */ expiresAt?: number }
  | { kind: 'delete'; key: string };

/**
 * How one event's writes relate to a projection's checkpoint (DESIGN §6).
 *
 * - Floor: an event at or below the checkpoint was applied already, so its writes are skipped
 *   whole. This is what lets a store forget the position of an expired entry (Redis drops it)
 *   without an older write bringing it back: that older write is below the checkpoint.
 * - `advance`: the projector moves the checkpoint to the event's position; a write-through (the
 *   writer applying its own events at once) does not, and its entries keep their position until
 *   the projector has passed them.
 * - `expectAtLeast`: the projector's own last position. A checkpoint below it means the store
 *   lost state (an empty restart, a failover, an older snapshot): the apply throws
 *   CheckpointLostError and writes nothing, and the projector rebuilds from what the store has.
 */
export interface CheckpointedApply {
  name: string;
  /** Default true. */
  advance?: boolean;
  expectAtLeast?: number;
  /**
   * The time (epoch ms, from the event's metadata) of the event being applied. A store that
   * collects dead entries itself (the in-memory one) uses the latest such time as its clock:
   * what it forgets then depends on the log alone, so a rebuild and the live state agree.
   */
  at?: number;
}

export function checkpointOf(option: string | CheckpointedApply | undefined): CheckpointedApply | undefined {
  return typeof option === 'string' ? { name: option } : option;
}

/**
 * The store refuses an apply's writes as invalid (a value JSON cannot hold, an expiry that is
 * not a time, a position that is not an integer), before writing anything: applying the same
 * event again would fail again.
 */
export class ProjectionWriteRejectedError extends RangeError {
  override readonly name = 'ProjectionWriteRejectedError';
}

/** The projection store could not be reached (Redis down or unreachable): the caller may retry. */
export class ProjectionStoreUnavailableError extends DependencyUnavailableError {
  override readonly name = 'ProjectionStoreUnavailableError';
}

/** The projection store's checkpoint is behind what its projector already applied. */
export class CheckpointLostError extends Error {
  override readonly name = 'CheckpointLostError';
  constructor(
    readonly checkpointName: string,
    readonly expectedAtLeast: number,
    readonly actual: number,
  ) {
    super(`checkpoint ${checkpointName} is at ${actual}, below ${expectedAtLeast} already applied: the store lost state`);
  }
}

/** A digest of live entries, and how far the entries it covers reach in `$all`. */
export interface DigestReport {
  /** digestLiveEntries (digest.ts) of the live entries selected. */
  digest: string;
  /** How many live entries the digest covers. */
  entries: number;
  /**
   * The highest position of any entry selected, live, expired or tombstone: above the
   * projection's checkpoint, the state holds a write-through the checkpoint does not cover yet.
   */
  highestPosition: number;
}

export interface ProjectionStore {
  /**
   * Applies the writes of one event at `position`. With a checkpoint (a name means
   * `{ name, advance: true }`), the writes obey the checkpoint as described at CheckpointedApply;
   * without one, only the per-key positions guard them.
   */
  apply(writes: ProjectionWrite[], position: number, checkpoint?: string | CheckpointedApply): Promise<void>;
  /** The current value, or undefined if absent, deleted or expired (at `now`, epoch ms). */
  get<T = unknown>(key: string, now?: number): Promise<T | undefined>;
  /** The last applied position of a checkpoint, 0 if none. */
  checkpoint(name: string): Promise<number>;
  /** A digest of all live (unexpired) entries: equal digests mean equal live state. */
  digest(now?: number): Promise<string>;
  /** The digest of the live entries (at `now`) whose key `include` accepts (default all). */
  digestOf(now: number, include?: (key: string) => boolean): Promise<DigestReport>;
  /** Drops every key and checkpoint. */
  clear(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
