import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';

/**
 * The child processes of `npm run start:distributed`: nats-server, redis-server and the four
 * services, each one's output prefixed with its name, stopped in reverse order.
 */
export interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

/** The Debian/Ubuntu package of each binary the script needs. */
const PACKAGES: Record<string, string> = { 'nats-server': 'nats-server', 'redis-server': 'redis-server' };

/** Fails at once, naming the binary and its package, when `binary` is not on PATH. */
export function requireBinary(binary: string): void {
  if (spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0) return;
  throw new Error(
    `${binary} was not found on PATH. Install it (Debian/Ubuntu: apt-get install -y ${PACKAGES[binary] ?? binary}) ` +
      `or put it on PATH, then run npm run start:distributed again.`,
  );
}

export function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${name}] `;
  let pending = '';
  const write = (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
  };
  child.stdout!.setEncoding('utf8').on('data', write);
  child.stderr!.setEncoding('utf8').on('data', write);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, process: child, exited };
}

const running = (child: Child) => child.process.exitCode === null && child.process.signalCode === null;

export async function waitForPort(child: Child, host: string, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!running(child)) throw new Error(`${child.name} exited before it listened on ${host}:${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name} did not listen on ${host}:${port} within ${timeoutMs} ms`);
}

/** Waits until the service's /readyz answers 200. */
export async function waitReady(child: Child, healthUrl: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!running(child)) throw new Error(`${child.name} exited before it was ready`);
    try {
      if ((await fetch(`${healthUrl}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} was not ready within ${timeoutMs} ms (${healthUrl}/readyz)`);
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: Child, graceMs = 25_000): Promise<void> {
  if (!running(child)) return;
  child.process.kill('SIGTERM');
  const killer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(killer);
}
