import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AdminSession, CliContext } from '../../services/cli/context.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { readOnlyView } from '../../infra/event-store/read-only.js';
import { runCli } from '../../services/cli/program.js';

/**
 * Two ways to run `idp` in tests, on purpose the same commands:
 * - `runIdp`: the real bin (`dist/services/cli/main.js`) as a child process, with an environment;
 *   what an operator runs against a SQLite file, or JetStream / NATS in distributed mode.
 * - `runIdpInProcess`: `runCli` in the test's own process against a store the test holds, the
 *   only way to reach an in-memory log (and its embedded admin session) from outside a server.
 */
const MAIN = fileURLToPath(new URL('../../services/cli/main.js', import.meta.url));

export interface IdpRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runIdp(
  argv: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; stdin?: string } = {},
): Promise<IdpRun> {
  const child = spawn(process.execPath, [MAIN, ...argv], {
    cwd: options.cwd ?? process.cwd(),
    // A clean environment but for PATH and what the test gives: no stray EVENT_STORE_URL from the shell.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? '');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const code = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`idp ${argv.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (exitCode, signal) => {
      clearTimeout(timer);
      resolve(exitCode ?? (signal ? 128 : 1));
    });
  });
  return { code, stdout, stderr };
}

export interface InProcessOptions {
  /** The log the commands read (through a read-only view, as the real bin opens it). */
  store: EventStore;
  /** The admin session administrative commands use (embeddedAdminSession over the same store). */
  admin?: () => Promise<AdminSession>;
  now?: () => Date;
  tenant?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Sees what the command writes as it writes it (a long-running command such as `tail`). */
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /** What the command reads on stdin (`--password-stdin`); stdin is never a terminal here. */
  stdin?: string;
}

export async function runIdpInProcess(argv: string[], options: InProcessOptions): Promise<IdpRun> {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    stdout: {
      write: (text) => {
        stdout += text;
        options.onStdout?.(text);
      },
    },
    stderr: {
      write: (text) => {
        stderr += text;
        options.onStderr?.(text);
      },
    },
    progressOnTerminal: false,
    now: options.now ?? (() => new Date()),
    tenant: options.tenant ?? 'default',
    // The command closes what it opens; the test's store must outlive it.
    openLog: async () => ({ ...readOnlyView(options.store), close: async () => {} }),
    openAdmin: async () => {
      if (!options.admin) throw new Error('this test gave runIdpInProcess no admin session');
      return options.admin();
    },
    env: options.env ?? {},
    signal: options.signal ?? new AbortController().signal,
    secretInput: {
      isTTY: false,
      readAll: async () => options.stdin ?? '',
      promptHidden: async () => {
        throw new Error('stdin is not a terminal in runIdpInProcess');
      },
    },
  };
  const code = await runCli(argv, ctx);
  return { code, stdout, stderr };
}

/** A long-running `idp` (e.g. `tail`) as a child: its output so far, and a signal to stop it. */
export interface RunningIdp {
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr (or stdout, with `on: 'stdout'`) matches, or rejects after the deadline. */
  waitFor(pattern: RegExp, options?: { on?: 'stdout' | 'stderr'; timeoutMs?: number }): Promise<void>;
  /** Sends the signal and resolves with the exit code (SIGKILL and a rejection after the deadline). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export function startIdp(argv: string[], options: { env?: Record<string, string> } = {}): RunningIdp {
  const child = spawn(process.execPath, [MAIN, ...argv], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    async waitFor(pattern, { on = 'stderr', timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(on === 'stderr' ? stderr : stdout)) {
        if (child.exitCode !== null) throw new Error(`idp ${argv.join(' ')} exited ${child.exitCode}\nstdout: ${stdout}\nstderr: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`idp ${argv.join(' ')}: no ${pattern} on ${on} within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop(signal = 'SIGINT', timeoutMs = 15_000) {
      if (child.exitCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
