import { digestLiveEntries, type LiveEntry } from './digest.js';
import { prepareWrites } from './prepare-writes.js';
import { CheckpointLostError, checkpointOf, type CheckpointedApply, type DigestReport, type ProjectionStore, type ProjectionWrite } from './port.js';

interface Entry {
  /** JSON text of the value; undefined marks a tombstone. */
  json: string | undefined;
  position: number;
  expiresAt: number | undefined;
  /** The checkpoint of the apply that wrote it (undefined: none): its floor guards the key once the entry is forgotten. */
  checkpoint: string | undefined;
}

export interface InMemoryProjectionStoreOptions {
  /**
   * Collect dead state, so that memory is bounded by the live state rather than by the length
   * of the log: an entry that expired more than `gcGraceMs` before the store's clock, and a
   * tombstone, once the checkpoint it was written under covers it (DESIGN §6: the floor then
   * skips every older write, so nothing forgotten can come back). The clock is the latest event
   * time an apply under the entry's checkpoint carried (CheckpointedApply.at), not the wall clock: what is forgotten depends
   * on the log alone, so a rebuild and the live state agree even for a projection that reads
   * before it writes (the back-channel participants). Undefined (the default): keep everything,
   * as a test with a fixed clock expects.
   */
  gcGraceMs?: number;
}

function isExpired(entry: { expiresAt: number | undefined }, now: number): boolean {
  return entry.expiresAt !== undefined && entry.expiresAt <= now;
}

/** Applies between two sweeps: at least this, and at least as many as the last sweep left (amortised O(1) per apply). */
const MIN_APPLIES_PER_SWEEP = 1024;

export class InMemoryProjectionStore implements ProjectionStore {
  private readonly entries = new Map<string, Entry>();
  private readonly checkpoints = new Map<string, number>();
  private readonly gcGraceMs: number | undefined;
  /**
   * The latest event time applied (epoch ms) under each checkpoint: the clock that collects the
   * entries written under it. Per checkpoint, so that a follower behind the others (the
   * back-channel sender catching up) never finds forgotten what was live at its events' time.
   */
  private readonly clocks = new Map<string, number>();
  /** The latest of them: the clock of entries written without a checkpoint. */
  private clock = Number.NEGATIVE_INFINITY;
  private appliesSinceSweep = 0;
  /** Applies until the next sweep: as many as entries were left by the last one (at least MIN_APPLIES_PER_SWEEP). */
  private sweepEvery = MIN_APPLIES_PER_SWEEP;

  constructor(options: InMemoryProjectionStoreOptions = {}) {
    const { gcGraceMs } = options;
    if (gcGraceMs !== undefined && (!Number.isSafeInteger(gcGraceMs) || gcGraceMs < 0)) throw new RangeError(`invalid gcGraceMs: ${gcGraceMs}`);
    this.gcGraceMs = gcGraceMs;
  }

  /** How many keys the store holds, tombstones and not yet collected expired entries included. */
  get size(): number {
    return this.entries.size;
  }

  async apply(writes: ProjectionWrite[], position: number, checkpointOption?: string | CheckpointedApply): Promise<void> {
    const checkpoint = checkpointOf(checkpointOption);
    const prepared = prepareWrites(writes, position, checkpoint);
    if (checkpoint !== undefined) {
      const current = this.checkpoints.get(checkpoint.name) ?? 0;
      if (checkpoint.expectAtLeast !== undefined && current < checkpoint.expectAtLeast) {
        throw new CheckpointLostError(checkpoint.name, checkpoint.expectAtLeast, current);
      }
      if (position <= current) return;
      const { at } = checkpoint;
      if (at !== undefined && Number.isFinite(at) && at > (this.clocks.get(checkpoint.name) ?? Number.NEGATIVE_INFINITY)) {
        this.clocks.set(checkpoint.name, at);
        if (at > this.clock) this.clock = at;
      }
    }
    // After this apply, the writes are covered by their checkpoint unless it is a write-through.
    const covered = checkpoint?.advance !== false;
    const collectBefore = this.collectBefore(checkpoint?.name);
    for (const [key, { json, expiresAt }] of prepared) {
      const current = this.entries.get(key);
      if (current !== undefined && position <= current.position) continue;
      const entry: Entry = { json, position, expiresAt, checkpoint: checkpoint?.name };
      if (covered && this.collectable(entry, collectBefore)) this.entries.delete(key);
      else this.entries.set(key, entry);
    }
    if (checkpoint !== undefined && checkpoint.advance !== false) this.checkpoints.set(checkpoint.name, position);
    if (this.gcGraceMs !== undefined && ++this.appliesSinceSweep >= this.sweepEvery) this.sweep();
  }

  async get<T = unknown>(key: string, now = Date.now()): Promise<T | undefined> {
    const entry = this.entries.get(key);
    if (entry?.json === undefined || isExpired(entry, now)) return undefined;
    return JSON.parse(entry.json) as T;
  }

  async checkpoint(name: string): Promise<number> {
    return this.checkpoints.get(name) ?? 0;
  }

  async digest(now = Date.now()): Promise<string> {
    return (await this.digestOf(now)).digest;
  }

  /** Synchronous inside: one consistent snapshot, whatever applies are queued behind it. */
  async digestOf(now: number, include: (key: string) => boolean = () => true): Promise<DigestReport> {
    const live: LiveEntry[] = [];
    let highestPosition = 0;
    for (const [key, entry] of this.entries) {
      if (!include(key)) continue;
      if (entry.position > highestPosition) highestPosition = entry.position;
      if (entry.json === undefined || isExpired(entry, now)) continue;
      live.push({ key, value: JSON.parse(entry.json), expiresAt: entry.expiresAt });
    }
    return { digest: digestLiveEntries(live), entries: live.length, highestPosition };
  }

  async clear(): Promise<void> {
    this.entries.clear();
    this.checkpoints.clear();
    this.clocks.clear();
    this.clock = Number.NEGATIVE_INFINITY;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  private collectBefore(checkpoint: string | undefined): number {
    if (this.gcGraceMs === undefined) return Number.NEGATIVE_INFINITY;
    const clock = checkpoint === undefined ? this.clock : (this.clocks.get(checkpoint) ?? Number.NEGATIVE_INFINITY);
    return clock - this.gcGraceMs;
  }

  /**
   * Whether a covered entry may be forgotten: expired before `collectBefore`, or a tombstone
   * under a checkpoint (without one, only the tombstone keeps an older put out).
   */
  private collectable(entry: Entry, collectBefore: number): boolean {
    if (this.gcGraceMs === undefined) return false;
    if (entry.json === undefined) return entry.checkpoint !== undefined;
    return isExpired(entry, collectBefore);
  }

  private sweep(): void {
    this.appliesSinceSweep = 0;
    for (const [key, entry] of this.entries) {
      const covered = entry.checkpoint === undefined || entry.position <= (this.checkpoints.get(entry.checkpoint) ?? 0);
      if (covered && this.collectable(entry, this.collectBefore(entry.checkpoint))) this.entries.delete(key);
    }
    this.sweepEvery = Math.max(MIN_APPLIES_PER_SWEEP, this.entries.size);
  }
}
