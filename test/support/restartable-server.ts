import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './servers.js';

/**
 * A server from PATH that a test can stop and start again on the same port and data directory
 * (a restart, an outage), or start empty (a failover to an empty replica). A server named by a
 * URL in the environment cannot be restarted by the test, so these need the binary.
 */
export interface RestartableServer {
  url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port; `empty` first deletes its data. */
  start(options?: { empty?: boolean }): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
}

export async function startRestartableServer(spec: {
  binary: string;
  /** What to tell the operator to install when the binary is missing. */
  install: string;
  args: (port: number, dir: string) => string[];
  scheme: string;
}): Promise<RestartableServer> {
  if (spawnSync('sh', ['-c', `command -v ${spec.binary}`]).status !== 0) {
    throw new Error(`this test stops and restarts ${spec.binary}: install it (${spec.install})`);
  }
  const dir = mkdtempSync(join(tmpdir(), `${spec.binary}-restartable-`));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (options: { empty?: boolean } = {}) => {
    if (child) throw new Error(`${spec.binary} is running already`);
    if (options.empty) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    output = '';
    const started = spawn(spec.binary, spec.args(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
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
    url: `${spec.scheme}://127.0.0.1:${port}`,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
