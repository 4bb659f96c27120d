import type { Command } from 'commander';
import {
  DisableUser,
  EnableUser,
  ForgetUser,
  GetUser,
  ListUsers,
  RegisterUser,
  SetUserPassword,
  UserSub,
  type UserView,
} from '../../../contracts/messages/authn.js';
import { ProfileClaims } from '../../../contracts/profile-claims.js';
import { call } from '../../../infra/bus/typed.js';
import { withAdminSession } from '../admin-command.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { printJson, printRows, renderRecord, type Column } from '../output.js';
import { readNewPassword } from '../secret-input.js';

/**
 * `idp user create|show|list|disable|enable|set-password|forget`: bus messages to authn (the
 * owner of users, and the only holder of their data keys), as the admin identity. Passwords come
 * from stdin or a prompt, never from the command line, and are never printed.
 */
export function registerUsers(program: Command, ctx: CliContext): void {
  const user = program.command('user').description('create, inspect, disable, enable, re-password and forget users (authn)');

  user
    .command('create <username>')
    .description('register a user; the password is read from stdin (--password-stdin) or asked for without echo')
    .option('--password-stdin', 'read the password from stdin (one trailing newline is dropped)')
    .option('--claims <json>', 'standard claims (OIDC Core §5.1) as a JSON object, e.g. \'{"name":"Alice","email":"alice@example.com"}\'')
    .option('--json', 'print JSON')
    .action(async (username: string, options: { passwordStdin?: boolean; claims?: string; json?: boolean }) => {
      const claims = parseClaims(options.claims);
      const password = await readNewPassword(ctx, options.passwordStdin);
      const result = await withAdminSession(ctx, (session) =>
        call(session.bus, RegisterUser, { ...claims, username, password, ctx: session.requestContext() }),
      );
      if (!result.created) {
        throw new CliError(EXIT.refused, `the username ${username} is registered already (sub ${result.sub}): nothing was changed`);
      }
      if (options.json) printJson(ctx.stdout, { sub: result.sub, username, created: true });
      else ctx.stdout.write(renderRecord([['created', username], ['sub', result.sub]]));
    });

  user
    .command('show <sub-or-username>')
    .description('one user: status, registration, last login, failed logins, and their claims (none once forgotten)')
    .option('--json', 'print JSON')
    .action(async (subOrUsername: string, options: { json?: boolean }) => {
      const { user: found } = await withAdminSession(ctx, (session) =>
        call(session.bus, GetUser, { subOrUsername, ctx: session.requestContext() }),
      );
      if (!found) throw new CliError(EXIT.notFound, `no user with the sub or username ${subOrUsername}`);
      if (options.json) return printJson(ctx.stdout, found);
      const claims = found.claims === null ? [] : Object.entries(found.claims).map(([name, value]): [string, unknown] => [`claim ${name}`, value]);
      const none: Array<[string, unknown]> = found.claims === null ? [['claims', 'none (forgotten)']] : [];
      ctx.stdout.write(renderRecord([...viewEntries(found), ...none, ...claims]));
    });

  user
    .command('list')
    .description('every user, in registration order')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { users } = await withAdminSession(ctx, (session) => call(session.bus, ListUsers, { ctx: session.requestContext() }));
      printRows(ctx.stdout, options.json === true, users, USER_COLUMNS);
    });

  user
    .command('disable <sub>')
    .description('a watermark: every token of the user issued until now stops working at once; no login, session or new token while disabled')
    .option('--reason <text>', 'why (recorded in the event, not published on the live stream)')
    .option('--json', 'print JSON')
    .action(async (sub: string, options: { reason?: string; json?: boolean }) => {
      if (options.reason !== undefined && (options.reason.length === 0 || options.reason.length > 500)) {
        throw new CliError(EXIT.usage, '--reason must be 1 to 500 characters');
      }
      const outcome = await administer(ctx, sub, (session) =>
        call(session.bus, DisableUser, { sub, ...(options.reason !== undefined ? { reason: options.reason } : {}), ctx: session.requestContext() }),
      );
      report(ctx, options.json, outcome, outcome.changed ? `disabled ${sub} at ${outcome.user.disabledAt}: every token issued until then is refused` : alreadyText(outcome.user));
    });

  user
    .command('enable <sub>')
    .description('the user may log in again; tokens issued before stay refused')
    .option('--json', 'print JSON')
    .action(async (sub: string, options: { json?: boolean }) => {
      const outcome = await administer(ctx, sub, (session) => call(session.bus, EnableUser, { sub, ctx: session.requestContext() }));
      report(ctx, options.json, outcome, outcome.changed ? `enabled ${sub}: tokens issued before now stay refused` : `${sub} is active already: nothing changed`);
    });

  user
    .command('set-password <sub>')
    .description('a new password (hashed and sealed like a registration\'s); read from stdin or asked for without echo')
    .option('--password-stdin', 'read the password from stdin (one trailing newline is dropped)')
    .option('--json', 'print JSON')
    .action(async (sub: string, options: { passwordStdin?: boolean; json?: boolean }) => {
      checkSub(sub);
      const password = await readNewPassword(ctx, options.passwordStdin);
      const outcome = await administer(ctx, sub, (session) =>
        call(session.bus, SetUserPassword, { sub, password, ctx: session.requestContext() }),
      );
      report(ctx, options.json, outcome, `set a new password for ${sub}`);
    });

  user
    .command('forget <sub>')
    .description('destroys the user\'s data key for good (DESIGN §4): claims and password hash unreadable, every token refused; the log still verifies')
    .option('--json', 'print JSON')
    .action(async (sub: string, options: { json?: boolean }) => {
      const outcome = await administer(ctx, sub, (session) => call(session.bus, ForgetUser, { sub, ctx: session.requestContext() }));
      report(
        ctx,
        options.json,
        outcome,
        outcome.changed
          ? `forgot ${sub} at ${outcome.user.forgottenAt}: data key destroyed, every token refused`
          : `${sub} was forgotten already (at ${outcome.user.forgottenAt}); data key ${outcome.user.dataKey}`,
      );
    });
}

type Outcome = { found: false } | { found: true; changed: boolean; user: UserView };

/** A sub that cannot name a user is no user: exit 3, like one that is not registered. */
function checkSub(sub: string): void {
  if (!UserSub.safeParse(sub).success) throw new CliError(EXIT.notFound, `no user with the sub ${sub}`);
}

async function administer(
  ctx: CliContext,
  sub: string,
  send: (session: Parameters<Parameters<typeof withAdminSession>[1]>[0]) => Promise<Outcome>,
): Promise<Extract<Outcome, { found: true }>> {
  checkSub(sub);
  const outcome = await withAdminSession(ctx, send);
  if (!outcome.found) throw new CliError(EXIT.notFound, `no user with the sub ${sub}`);
  return outcome;
}

function report(ctx: CliContext, json: boolean | undefined, outcome: Extract<Outcome, { found: true }>, text: string): void {
  if (json) printJson(ctx.stdout, { changed: outcome.changed, user: outcome.user });
  else ctx.stdout.write(`${text}\n`);
}

function alreadyText(user: UserView): string {
  return user.status === 'forgotten'
    ? `${user.sub} was forgotten (at ${user.forgottenAt}): every token is refused already, nothing changed`
    : `${user.sub} is disabled already (since ${user.disabledAt}): the first watermark stays, nothing changed`;
}

function viewEntries(user: UserView): Array<[string, unknown]> {
  return [
    ['sub', user.sub],
    ['username', user.username],
    ['status', user.status],
    ['registered', user.registeredAt],
    ['last login', user.lastLoginAt],
    ['failed logins', String(user.failedLogins)],
    ...(user.disabledAt !== null ? ([['disabled at', user.disabledAt], ['reason', user.disabledReason]] as Array<[string, unknown]>) : []),
    ...(user.forgottenAt !== null ? ([['forgotten at', user.forgottenAt]] as Array<[string, unknown]>) : []),
    ['data key', user.dataKey],
  ];
}

const USER_COLUMNS: ReadonlyArray<Column<UserView>> = [
  { header: 'SUB', value: (u) => u.sub },
  { header: 'USERNAME', value: (u) => u.username },
  { header: 'STATUS', value: (u) => u.status },
  { header: 'REGISTERED', value: (u) => u.registeredAt },
  { header: 'LAST LOGIN', value: (u) => u.lastLoginAt },
  { header: 'FAILED', value: (u) => String(u.failedLogins) },
];

/** `--claims`: a JSON object of standard claims, checked here so that a typo is a usage error, not a refusal. */
function parseClaims(text: string | undefined): ProfileClaims {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(EXIT.usage, '--claims must be a JSON object');
  }
  const parsed = ProfileClaims.safeParse(value);
  if (!parsed.success) {
    throw new CliError(EXIT.usage, `--claims: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(object)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
