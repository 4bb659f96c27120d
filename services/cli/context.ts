import type { Bus } from '../../infra/bus/port.js';
import type { EventStore } from '../../infra/event-store/port.js';
import type { RequestContext } from '../../contracts/events/metadata.js';
import type { TenantId } from '../../contracts/tenant.js';
import type { TextSink } from './output.js';
import type { SecretInput } from './secret-input.js';

/**
 * Where administrative commands go (DESIGN §9): to the owning service as a bus command, as the
 * `admin` identity. In distributed mode that is NATS; in embedded mode the owning services' own
 * command handlers run in the CLI's process against the log, the same code path as the server's.
 */
export interface AdminSession {
  mode: 'embedded' | 'distributed';
  bus: Bus;
  /** The request context of one administrative command: tenant, a fresh correlation id, the admin actor. */
  requestContext(): RequestContext;
  close(): Promise<void>;
}

/**
 * Everything a command touches of the outside world, so that a test can run the very same
 * commands in its own process against an in-memory store (test/support/cli.ts), and `main.ts`
 * against what the environment names.
 */
export interface CliContext {
  stdout: TextSink;
  stderr: TextSink;
  /** Progress bars (on stderr) only when stderr is a terminal. */
  progressOnTerminal: boolean;
  /** The clock of "now" (as-of defaults, expiry in digests); tests pin it. */
  now(): Date;
  tenant: TenantId;
  /** Opens the log read-only; the caller closes it. */
  openLog(): Promise<EventStore>;
  /** Opens the way to the owning services for administrative writes; the caller closes it. */
  openAdmin(): Promise<AdminSession>;
  /** The environment, for what a single command reads itself (the anchor file's default path, …). */
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: long commands (`tail`) stop and exit cleanly. */
  signal: AbortSignal;
  /** Where passwords are read from (`--password-stdin`, or a prompt without echo); absent: none can be. */
  secretInput?: SecretInput;
}
