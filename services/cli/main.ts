#!/usr/bin/env node
import 'reflect-metadata';
import { parseCliEnv } from './cli-env.js';
import type { CliContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { openLogFromEnv } from './open-log.js';
import { runCli } from './program.js';
import { processSecretInput } from './secret-input.js';

/** `idp`: the package's bin (README, "Audit and administration"). */
let env;
try {
  env = parseCliEnv(process.env);
} catch (error) {
  process.stderr.write(`idp: ${(error as Error).message}\n`);
  process.exit(EXIT.usage);
}
const cliEnv = env;
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

const ctx: CliContext = {
  stdout: process.stdout,
  stderr: process.stderr,
  progressOnTerminal: process.stderr.isTTY === true,
  now: () => new Date(),
  tenant: cliEnv.IDP_TENANT,
  openLog: () => openLogFromEnv(cliEnv),
  // Loaded only by the commands that write: it brings the services' modules (Nest) with it.
  openAdmin: async () => (await import('./admin-session.js')).openAdminSessionFromEnv(cliEnv, process.env),
  env: process.env,
  signal: stop.signal,
  secretInput: processSecretInput(),
};
const code = await runCli(process.argv.slice(2), ctx);
// Let stdout drain (a pipe into `head` may have closed it: that is not a failure of ours).
process.stdout.on('error', () => {});
process.exitCode = code;
// Adapters (NATS reconnect timers, Nest) may keep the loop alive after the command is done.
setTimeout(() => process.exit(code), 200).unref();
