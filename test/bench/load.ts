import { cpuSecondsOf, processNameOf } from './server-cpu.js';
import { summarize, type Summary } from './stats.js';

/**
 * A closed-loop load generator: `concurrency` workers, each sending its next request as soon as
 * its previous one answered, until `count` requests were measured or the deadline passed (a
 * bench never runs away). `warmup` requests run first and are not measured. Worker w always
 * gets the same w, so a scenario can keep per-worker state (a refresh token lineage).
 */
export interface LoadOptions {
  count: number;
  concurrency: number;
  warmup: number;
  deadlineMs: number;
  /** The server's processes: their CPU time over the measured phase is reported per success. */
  serverPids?: number[];
}

export interface Step {
  worker: number;
  /** 0-based index of this request in its phase (warm-up or measured). */
  i: number;
  warmup: boolean;
}

export interface LoadResult extends Summary {
  /** The measured phase stopped at the deadline before `count` requests. */
  truncated: boolean;
  /** The first failure, for the report (later ones are only counted). */
  firstError?: string;
  /** The server's CPU milliseconds (all its processes and threads) per success in the measured phase. */
  serverCpuMs?: number;
  /** The same, process by process, where the server is several (the distributed mode). */
  serverCpuMsByProcess?: Record<string, number>;
}

export async function closedLoop(options: LoadOptions, step: (s: Step) => Promise<void>): Promise<LoadResult> {
  const deadline = performance.now() + options.deadlineMs;
  const phase = async (count: number, warmup: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    let next = 0;
    const started = performance.now();
    const worker = async (w: number) => {
      while (next < count && performance.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        try {
          await step({ worker: w, i, warmup });
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, count)) }, (_, w) => worker(w)));
    return { latencies, errors, firstError, seconds: (performance.now() - started) / 1000, done: next };
  };
  if (options.warmup > 0) await phase(options.warmup, true);
  const pids = options.serverPids ?? [];
  const cpuBefore = pids.map((pid) => cpuSecondsOf([pid]));
  const measured = await phase(options.count, false);
  const cpuAfter = pids.map((pid) => cpuSecondsOf([pid]));
  const perSuccess = (i: number) => {
    const [before, after] = [cpuBefore[i], cpuAfter[i]];
    return before === undefined || after === undefined || measured.latencies.length === 0 ? undefined : ((after - before) * 1000) / measured.latencies.length;
  };
  const byProcess = pids.map((pid, i) => [processNameOf(pid), perSuccess(i)] as const);
  const cpuMs = byProcess.length > 0 && byProcess.every(([, ms]) => ms !== undefined) ? byProcess.reduce((sum, [, ms]) => sum + ms!, 0) : undefined;
  return {
    ...summarize(measured.latencies, measured.seconds, measured.errors),
    ...(cpuMs !== undefined ? { serverCpuMs: cpuMs } : {}),
    ...(cpuMs !== undefined && pids.length > 1 ? { serverCpuMsByProcess: Object.fromEntries(byProcess) as Record<string, number> } : {}),
    truncated: measured.done < options.count,
    ...(measured.firstError !== undefined ? { firstError: measured.firstError } : {}),
  };
}
