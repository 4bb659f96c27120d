import type { Command } from 'commander';
import { sha256Hex } from '../../../infra/crypto/secrets.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { printRows, type Column } from '../output.js';
import { readLog } from '../read-log.js';
import { parseTime } from '../arguments.js';
import { AsOfFold, type AsOfQuestion, type Invalidity, type TokenValidity } from '../audit/as-of.js';
import { toLogEvent } from '../audit/log-event.js';

/**
 * `idp as-of <time> (--user SUB | --client ID | --token JTI) [--json]`: which tokens were valid
 * at that instant, from the log alone (audit/as-of.ts): one row per access and refresh token
 * issued by then, valid or not, and why not (expired, revoked by whom, rotated, a watermark, a
 * revoked signing key).
 */
interface AsOfOptions {
  user?: string;
  client?: string;
  token?: string;
  json?: boolean;
}

/** An invalidity with its time as ISO text (distributed over the union, so each kind keeps its fields). */
type PrintedInvalidity = Invalidity extends infer I ? (I extends Invalidity ? Omit<I, 'at'> & { at: string } : never) : never;

interface AsOfRow {
  kind: 'access' | 'refresh';
  generation?: number;
  grantId: string;
  grantType: string;
  clientId: string;
  sub: string | null;
  scope: string;
  issuedAt: string;
  expiresAt: string;
  valid: boolean;
  /** Every cause that ended it by the instant, earliest first. */
  invalidBecause: PrintedInvalidity[];
  signedBy?: string;
}

const COLUMNS: ReadonlyArray<Column<AsOfRow>> = [
  { header: 'TOKEN', value: (row) => (row.kind === 'refresh' ? `refresh#${row.generation}` : 'access') },
  { header: 'GRANT', value: (row) => row.grantId },
  { header: 'CLIENT', value: (row) => row.clientId },
  { header: 'SUB', value: (row) => row.sub },
  { header: 'SCOPE', value: (row) => row.scope },
  { header: 'ISSUED', value: (row) => row.issuedAt },
  { header: 'EXPIRES', value: (row) => row.expiresAt },
  { header: 'VALID', value: (row) => (row.valid ? 'yes' : 'no') },
  { header: 'WHY NOT', value: (row) => (row.invalidBecause[0] ? because(row.invalidBecause[0]) : '') },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function registerAsOf(program: Command, ctx: CliContext): void {
  program
    .command('as-of <time>')
    .description('which grants and tokens were valid at that instant (ISO time), from the log alone')
    .option('--user <sub>', "the user's tokens")
    .option('--client <client_id>', "the client's tokens")
    .option('--token <jti>', "one access token, by its jti (the log keeps only its secret's SHA-256)")
    .option('--json', 'an array of JSON objects (every cause of invalidity, earliest first)')
    .action(async (time: string, options: AsOfOptions) => {
      const instant = parseTime(time, '<time>');
      const question = questionOf(options);
      const fold = new AsOfFold(question);
      const store = await ctx.openLog();
      try {
        for await (const event of readLog(store)) fold.apply(toLogEvent(event));
      } finally {
        await store.close();
      }
      const known = question.kind === 'token' ? fold.hasToken() : fold.mentioned;
      if (!known) throw new CliError(EXIT.notFound, `${describe(options)} is not in the log`);
      printRows(ctx.stdout, options.json === true, fold.validAt(instant).map(rowOf), COLUMNS);
    });
}

function questionOf(options: AsOfOptions): AsOfQuestion {
  const given = [options.user, options.client, options.token].filter((value) => value !== undefined);
  if (given.length !== 1) throw new CliError(EXIT.usage, 'as-of takes exactly one of --user SUB, --client ID, --token JTI');
  if (options.user !== undefined) return { kind: 'user', sub: options.user };
  if (options.client !== undefined) return { kind: 'client', clientId: options.client };
  const jti = options.token!;
  const dot = jti.indexOf('.');
  const grantId = jti.slice(0, dot);
  const secret = jti.slice(dot + 1);
  if (dot < 0 || !UUID.test(grantId) || secret.length < 32) {
    throw new CliError(EXIT.usage, '--token must be an access token jti, <grant id>.<secret> (the "jti" claim of the JWT)');
  }
  return { kind: 'token', grantId, accessTokenIdHash: sha256Hex(secret) };
}

function describe(options: AsOfOptions): string {
  if (options.user !== undefined) return `user ${options.user}`;
  if (options.client !== undefined) return `client ${options.client}`;
  // Never echo the jti's secret half.
  return `the access token of grant ${options.token!.slice(0, options.token!.indexOf('.'))}`;
}

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));

function rowOf(validity: TokenValidity): AsOfRow {
  const { token } = validity;
  return {
    kind: token.kind,
    ...(token.generation !== undefined ? { generation: token.generation } : {}),
    grantId: token.grantId,
    grantType: token.grantType,
    clientId: token.clientId,
    sub: token.sub,
    scope: token.scope,
    issuedAt: iso(token.issuedAt),
    expiresAt: iso(token.expiresAt),
    valid: validity.valid,
    invalidBecause: validity.invalidBecause.map((cause) => ({ ...cause, at: iso(cause.at) }) as PrintedInvalidity),
    ...(validity.signedBy !== undefined ? { signedBy: validity.signedBy } : {}),
  };
}

function because(cause: AsOfRow['invalidBecause'][number]): string {
  switch (cause.kind) {
    case 'expired':
      return `expired at ${cause.at}`;
    case 'revoked':
      return `revoked at ${cause.at} by ${cause.actor} (${cause.reason})`;
    case 'rotated':
      return `rotated at ${cause.at} by ${cause.actor}`;
    case 'watermark':
      return `watermark ${cause.type} at ${cause.at} by ${cause.actor}`;
    case 'signing_key_revoked':
      return `signing key ${cause.kid} revoked at ${cause.at} by ${cause.actor}`;
  }
}
