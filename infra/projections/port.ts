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

export interface ProjectionStore {
  /**
   * Applies the writes of one event at `position`, and advances the checkpoint `checkpointName`
   * to `position` if it is greater (omit the name for a write-through that must not move it).
   */
  apply(writes: ProjectionWrite[], position: number, checkpointName?: string): Promise<void>;
  /** The current value, or undefined if absent, deleted or expired (at `now`, epoch ms). */
  get<T = unknown>(key: string, now?: number): Promise<T | undefined>;
  /** The last applied position of a checkpoint, 0 if none. */
  checkpoint(name: string): Promise<number>;
  /** A digest of all live (unexpired) entries: equal digests mean equal live state. */
  digest(now?: number): Promise<string>;
  /** Drops every key and checkpoint. */
  clear(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
