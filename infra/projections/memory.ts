import { digestLiveEntries, type LiveEntry } from './digest.js';
import { prepareWrites } from './prepare-writes.js';
import { CheckpointLostError, checkpointOf, type CheckpointedApply, type ProjectionStore, type ProjectionWrite } from './port.js';

interface Entry {
  /** JSON text of the value; undefined marks a tombstone. */
  json: string | undefined;
  position: number;
  expiresAt: number | undefined;
}

function isExpired(entry: Entry, now: number): boolean {
  return entry.expiresAt !== undefined && entry.expiresAt <= now;
}


export class InMemoryProjectionStore implements ProjectionStore {
  private readonly entries = new Map<string, Entry>();
  private readonly checkpoints = new Map<string, number>();

  async apply(writes: ProjectionWrite[], position: number, checkpointOption?: string | CheckpointedApply): Promise<void> {
    const checkpoint = checkpointOf(checkpointOption);
    const prepared = prepareWrites(writes, position, checkpoint);
    if (checkpoint !== undefined) {
      const current = this.checkpoints.get(checkpoint.name) ?? 0;
      if (checkpoint.expectAtLeast !== undefined && current < checkpoint.expectAtLeast) {
        throw new CheckpointLostError(checkpoint.name, checkpoint.expectAtLeast, current);
      }
      if (position <= current) return;
    }
    for (const [key, { json, expiresAt }] of prepared) {
      const current = this.entries.get(key);
      if (current === undefined || position > current.position) this.entries.set(key, { json, position, expiresAt });
    }
    if (checkpoint !== undefined && checkpoint.advance !== false) this.checkpoints.set(checkpoint.name, position);
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
    const live: LiveEntry[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.json === undefined || isExpired(entry, now)) continue;
      live.push({ key, value: JSON.parse(entry.json), expiresAt: entry.expiresAt });
    }
    return digestLiveEntries(live);
  }

  async clear(): Promise<void> {
    this.entries.clear();
    this.checkpoints.clear();
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
