import type { Logger } from 'pino';
import type { HealthEndpoints } from './health-server.js';

/**
 * On SIGTERM or SIGINT: report not-ready at once (so no new traffic is routed here), run the
 * shutdown steps (stop taking work, let in-flight requests finish, close the adapters), then
 * exit; if that takes longer than `timeoutMs`, exit non-zero anyway.
 */
export function exitGracefullyOnSignal(options: {
  logger: Logger;
  health: HealthEndpoints;
  timeoutMs: number;
  shutdown: () => Promise<void>;
}): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    options.logger.info({ signal }, 'shutting down');
    options.health.markShuttingDown();
    const force = setTimeout(() => {
      options.logger.error({ timeoutMs: options.timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, options.timeoutMs);
    force.unref();
    try {
      await options.shutdown();
      process.exit(0);
    } catch (error) {
      options.logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
