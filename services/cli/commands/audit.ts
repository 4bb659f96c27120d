import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { printRows, type Column } from '../output.js';
import { readLog } from '../read-log.js';
import { parseTime } from '../arguments.js';
import { toLogEvent } from '../audit/log-event.js';
import { TimelineSelector, timelineRow, type AuditSubject, type TimelineRow } from '../audit/timeline.js';

/**
 * `idp audit user <sub> | client <client_id> | grant <grant_id> [--since T] [--until T] [--json]`:
 * the subject's timeline from the log alone, in `$all` order (audit/timeline.ts): who logged in,
 * which client got which tokens for which scopes, what was refreshed and revoked, why, and by whom
 * (actor and correlation id of every event). The data shown is the allow-listed data of the live
 * stream: never a secret's hash or a sealed blob.
 */
const COLUMNS: ReadonlyArray<Column<TimelineRow>> = [
  { header: 'TIME', value: (row) => row.time },
  { header: 'POSITION', value: (row) => row.position },
  { header: 'EVENT', value: (row) => row.type },
  { header: 'ACTOR', value: (row) => row.actor },
  { header: 'CORRELATION', value: (row) => row.correlationId },
  { header: 'WHAT', value: (row) => row.summary },
];

interface AuditOptions {
  since?: string;
  until?: string;
  json?: boolean;
}

export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description("the timeline of a user, a client or a grant, from the log alone");
  const subcommand = (name: AuditSubject['kind'], argument: string, description: string, subject: (id: string) => AuditSubject) =>
    audit
      .command(`${name} <${argument}>`)
      .description(description)
      .option('--since <time>', 'only events at or after this ISO time')
      .option('--until <time>', 'only events before this ISO time')
      .option('--json', 'an array of JSON objects (the same fields, plus the ids and the allow-listed data)')
      .action((id: string, options: AuditOptions) => runAudit(ctx, subject(id), options));
  subcommand('user', 'sub', "a user's logins, sessions, consents, grants, tokens, refreshes and revocations", (sub) => ({ kind: 'user', sub }));
  subcommand('client', 'client_id', "a client's registration, secret rotations, watermarks, grants and tokens", (clientId) => ({ kind: 'client', clientId }));
  subcommand('grant', 'grant_id', "a grant's code, tokens, refreshes and revocation, and the watermarks that ended it", (grantId) => ({ kind: 'grant', grantId }));
}

async function runAudit(ctx: CliContext, subject: AuditSubject, options: AuditOptions): Promise<void> {
  const since = options.since === undefined ? undefined : parseTime(options.since, '--since');
  const until = options.until === undefined ? undefined : parseTime(options.until, '--until');
  const selector = new TimelineSelector(subject);
  const rows: TimelineRow[] = [];
  const store = await ctx.openLog();
  try {
    for await (const recorded of readLog(store)) {
      const event = toLogEvent(recorded);
      if (!selector.matches(event)) continue;
      if (since !== undefined && event.time < since) continue;
      if (until !== undefined && event.time >= until) continue;
      rows.push(timelineRow(event));
    }
  } finally {
    await store.close();
  }
  if (!selector.found) throw new CliError(EXIT.notFound, `no ${subject.kind} ${idOf(subject)} in the log`);
  printRows(ctx.stdout, options.json === true, rows, COLUMNS);
}

function idOf(subject: AuditSubject): string {
  return subject.kind === 'user' ? subject.sub : subject.kind === 'client' ? subject.clientId : subject.grantId;
}
