import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './servers.js';

/**
 * A nats-server with JetStream that the test can stop and start again on the same port and
 * store directory (its streams survive, as across a server restart or upgrade). Needs
 * nats-server on PATH: a server named by NATS_URL cannot be restarted by the test.
 */
export interface RestartableNats {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startRestartableNats(): Promise<RestartableNats> {
  if (spawnSync('sh', ['-c', 'command -v nats-server']).status !== 0) {
    throw new Error('this test restarts NATS: install nats-server (Debian: apt-get install -y nats-server)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'nats-restartable-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  const start = async () => {
    if (child) throw new Error('nats-server is running already');
    output = '';
    const started = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    url: `nats://127.0.0.1:${port}`,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
