import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './servers.js';

export { freePort };

/** What the test deployments allow per source address: the suites register many clients from 127.0.0.1. */
export const TEST_REGISTRATION_RATE = '100000/minute';

/**
 * The embedded IdP (`services/embedded/main.js`) as a real child process, for end-to-end tests
 * that talk to it over HTTP only. Resolved relative to this compiled file, so a test compiled
 * into any output directory runs the server compiled beside it.
 */
const MAIN = fileURLToPath(new URL('../../services/embedded/main.js', import.meta.url));

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

export interface EmbeddedProcessOptions {
  /** Data directory (KEK file, SQLite log, data-keys.db); a fresh temp directory by default. */
  dataDir?: string;
  /** Port to listen on; a free one by default. Give the old port to restart with the same issuer. */
  port?: number;
  /** Extra environment, applied last (IDP_DEMO_USERNAME, IDP_INITIAL_ACCESS_TOKEN, LOG_LEVEL...). */
  env?: Record<string, string>;
  /** What start waits for: `/readyz` 200 (default), or only that it listens (`/healthz` 200). */
  waitFor?: 'ready' | 'listening';
}

export interface EmbeddedProcess {
  issuer: string;
  port: number;
  dataDir: string;
  /** Everything captured from stdout and stderr so far. */
  logs(): string;
  /** SIGTERM, then waits for exit (SIGKILL after 10 s). Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL at once, as a crash (`kill -9`: no shutdown of any kind); resolves once it is gone. */
  kill(): Promise<void>;
  /** The exit code once the process ended (null while running or when killed by a signal). */
  exitCode(): number | null;
  /** The child's process id. */
  pid: number;
}

/** Children still running when the test process exits are killed, never leaked. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

/** Starts the embedded IdP and resolves once it listens (the demo user and client exist by then). */
export async function startEmbeddedProcess(options: EmbeddedProcessOptions = {}): Promise<EmbeddedProcess> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'idp-e2e-'));
  // A port we picked ourselves may be taken by someone else before the child binds it: retry.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(dataDir, port, options.env ?? {}, options.waitFor ?? 'ready');
    } catch (error) {
      const addressInUse = error instanceof StartError && /EADDRINUSE/.test(error.output);
      if (!addressInUse || options.port !== undefined || attempt >= 3) throw error;
    }
  }
}

class StartError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(`${message}\n--- captured output ---\n${output}--- end of output ---`);
  }
}

async function launch(dataDir: string, port: number, extraEnv: Record<string, string>, waitFor: 'ready' | 'listening'): Promise<EmbeddedProcess> {
  const issuer = `http://127.0.0.1:${port}`;
  // A minimal environment, so nothing from the developer's shell (IDP_KEK, PORT...) leaks in.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    EVENT_STORE_URL: `sqlite:${path.join(dataDir, 'idp.db')}`,
    IDP_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    // The suites register many clients from 127.0.0.1; the limit itself has its own test.
    IDP_REGISTRATION_RATE: TEST_REGISTRATION_RATE,
    ...extraEnv,
  };

  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);

  const chunks: string[] = [];
  const logs = () => chunks.join('');
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));

  let exitCode: number | null = null;
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code) => {
      exitCode = code;
      exited = true;
      resolve();
    });
  });
  // Output may still be in the pipes when 'exit' fires; 'close' comes after both are drained.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new StartError(`embedded IdP did not become ready within ${READY_TIMEOUT_MS} ms`, logs()));
    }, READY_TIMEOUT_MS);
    // Ready means /readyz answers 200: the demo user and client are seeded before it listens.
    const poll = async () => {
      while (!settled && !exited) {
        const ready = await fetch(`${issuer}/${waitFor === 'ready' ? 'readyz' : 'healthz'}`).then((r) => r.status === 200, () => false);
        if (ready) {
          settled = true;
          clearTimeout(timer);
          resolve();
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    void poll();
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new StartError(`could not spawn the embedded IdP: ${error.message}`, logs()));
    });
    void closed.then(() => {
      settled = true;
      clearTimeout(timer);
      reject(new StartError(`embedded IdP exited before it was ready (exit code ${String(exitCode)})`, logs()));
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    issuer,
    port,
    dataDir,
    logs,
    exitCode: () => exitCode,
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        if (!exited) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
          await exit;
          clearTimeout(killer);
        }
        await closed;
      })();
      return stopping;
    },
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await exit;
      await closed;
    },
  };
}
