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

const SAMPLES = 20;

/**
 * The cost of a refresh after `options.history` rotations of one lineage, against the first
 * refresh of a fresh lineage (median of 20 each, one at a time).
 */
export async function refreshAfterRotations(target: Target, { http, options, users }: ScenarioContext): Promise<HistoryCost> {
  // All fresh lineages first, then their first refreshes back to back: no login between two
  // samples, as none comes between two refreshes of the history.
  const fresh: Lineage[] = [];
  for (let i = 0; i < SAMPLES; i++) fresh.push(await Lineage.start(target, http, users[i % users.length]!));
  const first: number[] = [];
  for (const lineage of fresh) {
    const t0 = performance.now();
    await lineage.refresh(http);
    first.push(performance.now() - t0);
  }
  const lineage = await Lineage.start(target, http, users[0]!);
  const history = await closedLoop(
    { count: options.history, concurrency: 1, warmup: 0, deadlineMs: options.historyDeadlineSeconds * 1000 },
    () => lineage.refresh(http),
  );
  if (history.errors > 0) throw new Error(`a rotation failed: ${history.firstError ?? ''}`);
  const after: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    await lineage.refresh(http);
    after.push(performance.now() - t0);
  }
  return { firstMs: median(first), afterMs: median(after), history: history.count, historySeconds: history.seconds };
}
