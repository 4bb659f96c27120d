import type { Command } from 'commander';
import { NatsCredentialsEnv } from '../../../infra/bus/nats-connection-options.js';
import { BusUrl } from '../../../infra/config/adapter-urls.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { printJsonLine } from '../output.js';
import { typeMatcher } from '../arguments.js';
import { followLiveStream, followStore, type FollowOptions } from '../tail/follow.js';

/**
 * `idp tail [--type PATTERN] [--since N] [--json]`: prints events as they happen, as CloudEvents
 * JSON lines (the shape of `IDP_EVENTS` and `idp export`), until SIGINT or SIGTERM (exit 0).
 * Distributed (`BUS_URL=nats://…`): the live stream `IDP_EVENTS`, as the `admin` identity.
 * Embedded: the log's own subscription (`EVENT_STORE_URL`, read-only).
 */
export function registerTail(program: Command, ctx: CliContext): void {
  program
    .command('tail')
    .description('print events as they happen, as CloudEvents JSON lines, until Ctrl-C')
    .option('--type <pattern>', 'only event types matching this pattern (* matches any run of characters)')
    .option('--since <n>', 'start after this $all position (embedded) or at this IDP_EVENTS stream sequence (distributed); default: from now')
    .option('--json', 'JSON lines (what tail always prints; accepted for symmetry with the other commands)')
    .action(async (options: { type?: string; since?: string }) => {
      const since = options.since === undefined ? undefined : parseSince(options.since);
      const matches = typeMatcher(options.type);
      const follow: FollowOptions = {
        ...(since !== undefined ? { since } : {}),
        signal: ctx.signal,
        onEvent: (event) => {
          if (matches(event.type)) printJsonLine(ctx.stdout, event);
        },
        onFollowing: (where) => ctx.stderr.write(`idp: following ${where} (Ctrl-C to stop)\n`),
      };
      // Nothing else need hold the process open while no event comes (the SQLite poller does not).
      const keepAlive = setInterval(() => {}, 60_000);
      try {
        await followWhatTheEnvironmentNames(ctx, follow);
      } finally {
        clearInterval(keepAlive);
      }
    });
}

async function followWhatTheEnvironmentNames(ctx: CliContext, follow: FollowOptions): Promise<void> {
  const bus = BusUrl.safeParse(ctx.env.BUS_URL ?? 'inproc:');
  if (!bus.success) throw new CliError(EXIT.usage, bus.error.issues.map((issue) => issue.message).join('; '));
  if (bus.data.kind === 'nats') {
    const credentials = NatsCredentialsEnv.safeParse(ctx.env);
    if (!credentials.success) throw new CliError(EXIT.usage, credentials.error.issues.map((issue) => issue.message).join('; '));
    await followLiveStream(bus.data.url, credentials.data, ctx.tenant, follow);
    return;
  }
  const store = await ctx.openLog();
  try {
    await followStore(store, follow);
  } finally {
    await store.close();
  }
}

function parseSince(text: string): number {
  if (!/^\d+$/.test(text)) throw new CliError(EXIT.usage, `--since must be a position or stream sequence (a whole number); got "${text}"`);
  return Number(text);
}
