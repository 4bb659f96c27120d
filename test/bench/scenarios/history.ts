import { closedLoop } from '../load.js';
import { median } from '../stats.js';
import type { ScenarioContext } from './scenario.js';
import { Lineage } from './refresh.js';
import type { Target } from '../targets/target.js';

/**
 * Whether a cost grows with history: the latency of an operation at the start (median of a few
 * fresh samples) against the same operation after a long history.
 */
export interface HistoryCost {
  /** Median latency of the operation with no history, ms. */
  firstMs: number;
  /** Median latency after the history, ms. */
  afterMs: number;
  /** How much history there was (may fall short of the target at the deadline). */
  history: number;
  /** Wall time the history took to build, s. */
  historySeconds: number;
}

const SAMPLES = 40;

/**
 * The cost of a refresh after `options.history` rotations of one lineage, against the first
 * refresh of a fresh lineage: 40 samples of each, one request at a time, taken alternately after
 * the history (a fresh lineage's first refresh, then the long lineage's next), so that both see
 * the same server at the same moment (the same log, the same neighbours on this noisy machine)
 * and differ only in the lineage's own history. The fresh lineages are started after the history
 * (oidc-provider's in-memory store evicts what 10,000 rotations push out), all before the first
 * sample: no login comes between two samples, as none comes between two refreshes of the history.
 */
export async function refreshAfterRotations(target: Target, { http, options, users }: ScenarioContext): Promise<HistoryCost> {
  const lineage = await Lineage.start(target, http, users[0]!);
  const history = await closedLoop(
    { count: options.history, concurrency: 1, warmup: 0, deadlineMs: options.historyDeadlineSeconds * 1000 },
    () => lineage.refresh(http),
  );
  if (history.errors > 0) throw new Error(`a rotation failed: ${history.firstError ?? ''}`);
  const fresh: Lineage[] = [];
  for (let i = 0; i < SAMPLES; i++) fresh.push(await Lineage.start(target, http, users[i % users.length]!));
  const timed = async (run: () => Promise<void>) => {
    const t0 = performance.now();
    await run();
    return performance.now() - t0;
  };
  const first: number[] = [];
  const after: number[] = [];
  for (const freshLineage of fresh) {
    first.push(await timed(() => freshLineage.refresh(http)));
    after.push(await timed(() => lineage.refresh(http)));
  }
  return { firstMs: median(first), afterMs: median(after), history: history.count, historySeconds: history.seconds };
}
