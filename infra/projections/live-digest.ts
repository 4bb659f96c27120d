import type { ProjectionStore } from './port.js';

/** The digest of one projection's live state, and the `$all` position it stands for when settled. */
export interface LiveDigest {
  name: string;
  /** Each checkpoint that writes the projection, as read before the digest. */
  checkpoints: Record<string, number>;
  /**
   * The position the state equals a replay up to, or null while it is not settled: checkpoints
   * that disagree or moved during the digest, or an entry written through above them.
   */
  position: number | null;
  digest: string;
  entries: number;
}

/**
 * A digest of a projection's live state at one `now` that a rebuild can be compared with: the
 * checkpoints are read before and after the digest, and the state is settled only if they did
 * not move, agree with each other, and no entry stands above them (a write-through the
 * projector has not reached). A caller that gets `position: null` asks again a little later.
 */
export async function settledDigest(
  store: ProjectionStore,
  projection: { name: string; checkpoints: readonly string[]; include?: (key: string) => boolean },
  now: number,
): Promise<LiveDigest> {
  const read = () => Promise.all(projection.checkpoints.map((name) => store.checkpoint(name)));
  const before = await read();
  const report = await store.digestOf(now, projection.include);
  const after = await read();
  const position = before[0] ?? 0;
  const settled =
    before.every((p, i) => p === after[i]) && before.every((p) => p === position) && report.highestPosition <= position;
  return {
    name: projection.name,
    checkpoints: Object.fromEntries(projection.checkpoints.map((name, i) => [name, before[i]!])),
    position: settled ? position : null,
    digest: report.digest,
    entries: report.entries,
  };
}
