import type { Command } from 'commander';
import { EventMetadata } from '../../../contracts/events/metadata.js';
import { toCloudEvent } from '../../../infra/event-relay/cloudevent.js';
import type { RecordedEvent } from '../../../infra/event-store/port.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { printJsonLine } from '../output.js';
import { readLog } from '../read-log.js';
import { parseTime, typeMatcher } from '../arguments.js';

/**
 * `idp export [--since POSITION|TIME] [--until TIME] [--type PATTERN]`: the log as CloudEvents
 * JSON lines on stdout, in `$all` order, the very shape the live stream `IDP_EVENTS` carries
 * (infra/event-relay/cloudevent.ts: the allow-listed data, never a secret's hash or a sealed
 * blob). For archiving, SIEM import, or `jq`.
 */
export function registerExport(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description('print the log as CloudEvents JSON lines (the shape of IDP_EVENTS)')
    .option('--since <position|time>', 'only events after this $all position, or at or after this ISO time')
    .option('--until <time>', 'only events before this ISO time')
    .option('--type <pattern>', 'only event types matching this pattern (* matches any run of characters), e.g. "grant.*" or "*.revoked"')
    .action(async (options: { since?: string; until?: string; type?: string }) => {
      const since = options.since === undefined ? undefined : parseSince(options.since);
      const until = options.until === undefined ? undefined : parseTime(options.until, '--until');
      const matches = typeMatcher(options.type);
      const store = await ctx.openLog();
      try {
        const after = since?.kind === 'position' ? since.position : 0;
        for await (const event of readLog(store, { after })) {
          if (!matches(event.type)) continue;
          const time = timeOf(event);
          if (since?.kind === 'time' && time < since.time) continue;
          if (until !== undefined && time >= until) continue;
          printJsonLine(ctx.stdout, toCloudEvent(event).data);
        }
      } finally {
        await store.close();
      }
    });
}

function parseSince(text: string): { kind: 'position'; position: number } | { kind: 'time'; time: number } {
  if (/^\d+$/.test(text)) return { kind: 'position', position: Number(text) };
  return { kind: 'time', time: parseTime(text, '--since') };
}

function timeOf(event: RecordedEvent): number {
  const parsed = EventMetadata.shape.time.safeParse((event.metadata as { time?: unknown } | undefined)?.time);
  if (!parsed.success) throw new CliError(EXIT.failed, `the event at position ${event.position} has no valid time`);
  return Date.parse(parsed.data);
}
