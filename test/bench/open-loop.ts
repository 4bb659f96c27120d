import { summarize } from './stats.js';
import type { LoadResult } from './load.js';

/**
 * An open-loop load generator (issue 12: "client credentials at a fixed open-loop 2,000
 * requests/s"): requests start on a fixed schedule whatever the answers, and each latency is
 * measured from when its request was due, not from when it could be sent, so a server that
 * falls behind shows it in the latencies (no coordinated omission). Bounded: `seconds` of
 * schedule after `warmupSeconds`, and never more than `maxInFlight` requests open; one that
 * would exceed it is counted as an error (the server is not keeping up), not queued.
 */
export interface OpenLoopOptions {
  /** Requests per second. */
  rate: number;
  seconds: number;
  warmupSeconds: number;
  maxInFlight: number;
}

export async function openLoop(options: OpenLoopOptions, step: () => Promise<void>): Promise<LoadResult> {
  const total = Math.round(options.rate * (options.warmupSeconds + options.seconds));
  const warmup = Math.round(options.rate * options.warmupSeconds);
  const intervalMs = 1000 / options.rate;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let inFlight = 0;
  let sent = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now() + 10;
  let measuredStart = Number.NaN;

  const fire = (i: number, due: number) => {
    const measured = i >= warmup;
    if (inFlight >= options.maxInFlight) {
      if (measured) {
        errors++;
        firstError ??= `more than ${options.maxInFlight} requests open at once: the server fell behind the schedule`;
      }
      return;
    }
    inFlight++;
    pending.push(
      step().then(
        () => {
          inFlight--;
          if (measured) latencies.push(performance.now() - due);
        },
        (error: unknown) => {
          inFlight--;
          if (measured) {
            errors++;
            firstError ??= (error as Error).message;
          }
        },
      ),
    );
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) {
        const due = start + sent * intervalMs;
        if (sent === warmup) measuredStart = due;
        fire(sent, due);
        sent++;
      }
      if (sent < total) setImmediate(tick);
      else resolve();
    };
    setTimeout(tick, 10);
  });
  await Promise.all(pending);
  const seconds = (performance.now() - measuredStart) / 1000;
  return {
    ...summarize(latencies, seconds, errors),
    truncated: false,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}
