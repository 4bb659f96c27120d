import { execFileSync } from 'node:child_process';
import os from 'node:os';

/**
 * Core pinning with `taskset` (util-linux): the servers on core 0, the load generator (this
 * process) on core 1, so that neither steals the other's CPU. Without taskset or with a single
 * core the bench runs unpinned and says so in its output.
 */
export interface Pinning {
  pinned: boolean;
  /** Why not, when not pinned. */
  reason?: string;
  serverCore: number;
  loadCore: number;
  /** The command and arguments that start `node args...` on the server core. */
  serverCommand(args: string[]): { command: string; args: string[] };
  /**
   * Runs `start` with this process moved to the server core, then moves it back: what `start`
   * spawns meanwhile (a deployment's processes, nats-server, redis-server) inherits the server
   * core and stays there.
   */
  spawningOnServerCore<T>(start: () => Promise<T>): Promise<T>;
}

export function setUpPinning(): Pinning {
  const unpinned = (reason: string): Pinning => ({
    pinned: false,
    reason,
    serverCore: 0,
    loadCore: 1,
    serverCommand: (args) => ({ command: process.execPath, args }),
    spawningOnServerCore: (start) => start(),
  });
  if (os.availableParallelism() < 2) return unpinned(`only ${os.availableParallelism()} core available`);
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    return unpinned('taskset not found (util-linux)');
  }
  try {
    // -a: every thread of this process (libuv's pool too), not only the main one.
    execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
  } catch (error) {
    return unpinned(`taskset could not pin the load generator: ${(error as Error).message}`);
  }
  return {
    pinned: true,
    serverCore: 0,
    loadCore: 1,
    serverCommand: (args) => ({ command: 'taskset', args: ['-c', '0', process.execPath, ...args] }),
    async spawningOnServerCore(start) {
      execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
      try {
        return await start();
      } finally {
        execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
      }
    },
  };
}
