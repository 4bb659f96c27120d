import { spawn } from 'node:child_process';
import type { Pinning } from '../pinning.js';

/**
 * A server under test as a child process on the server core. The child prints one line
 * `BENCH_READY <json>` once it serves; anything else it prints is kept for the error message.
 */
export interface ChildServer<Ready> {
  ready: Ready;
  pid: number;
  logs(): string;
  stop(): Promise<void>;
}

const READY_PREFIX = 'BENCH_READY ';
const START_TIMEOUT_MS = 180_000; // seeding many users costs one argon2 hash each
const STOP_GRACE_MS = 10_000;

export async function startChildServer<Ready>(
  pinning: Pinning,
  script: string,
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<ChildServer<Ready>> {
  const { command, args } = pinning.serverCommand([...nodeFlags, script]);
  const child = spawn(command, args, {
    // A minimal environment: nothing of the caller's shell (IDP_KEK, PORT...) leaks in.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  const logs = () => chunks.join('').slice(-20_000);
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));

  const ready = await new Promise<Ready>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within ${START_TIMEOUT_MS} ms\n${logs()}`));
    }, START_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      chunks.push(chunk);
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith(READY_PREFIX)) {
          clearTimeout(timer);
          resolve(JSON.parse(line.slice(READY_PREFIX.length)) as Ready);
        }
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before it was ready (code ${String(child.exitCode)})\n${logs()}`));
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    ready,
    pid: child.pid!,
    logs,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
}

/** What a child server prints once it serves. */
export function announceReady(ready: unknown): void {
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(ready)}\n`);
}
