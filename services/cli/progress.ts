import { SingleBar, Presets } from 'cli-progress';
import type { CliContext } from './context.js';

/** A progress report for long work (rebuild, verify, export): a bar with rate and ETA on a terminal. */
export interface Progress {
  /** `done` so far, out of `total` when it is known. */
  update(done: number, total?: number): void;
  stop(): void;
}

const SILENT: Progress = { update() {}, stop() {} };

/**
 * A bar on stderr when stderr is a terminal (so that stdout stays clean for `--json` and pipes),
 * nothing otherwise: a script or a test sees no control characters.
 */
export function startProgress(ctx: CliContext, label: string, total = 0): Progress {
  if (!ctx.progressOnTerminal) return SILENT;
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} events | {rate}/s | ETA {eta_formatted}`,
      stream: process.stderr,
      etaBuffer: 50,
      fps: 5,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const startedAt = Date.now();
  bar.start(total, 0, { rate: 0 });
  return {
    update(done, newTotal) {
      if (newTotal !== undefined && newTotal !== bar.getTotal()) bar.setTotal(newTotal);
      const seconds = (Date.now() - startedAt) / 1000;
      bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds) : 0 });
    },
    stop() {
      bar.stop();
    },
  };
}
