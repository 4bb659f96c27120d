import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './servers.js';

/**
 * A redis-server the test can stop and start again on the same port, keeping its data (an
 * append-only file fsynced on every write, like a Redis that was unreachable for a while) or
 * losing it (an empty restart: a failover to an empty replica, or no persistence). Needs
 * redis-server on PATH: a server named by REDIS_URL cannot be stopped by the test.
 */
export interface RestartableRedis {
  url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port; `empty` first deletes its data. */
  start(options?: { empty?: boolean }): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
}

export async function startRestartableRedis(): Promise<RestartableRedis> {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
    throw new Error('these tests stop and restart Redis: install redis-server (Debian: apt-get install -y redis-server)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'redis-restartable-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (options: { empty?: boolean } = {}) => {
    if (child) throw new Error('redis-server is running already');
    if (options.empty) {
      rmSync(dir, { recursive: true, force: true });
    }
    mkdirSync(dir, { recursive: true });
    output = '';
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child = started;
    await waitForPort(port, started, () => output);
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
