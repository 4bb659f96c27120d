import { Option, type Command } from 'commander';
import { SigningAlg } from '../../../contracts/events/keyring.js';
import { ListSigningKeys, RevokeSigningKey, RotateSigningKeys, type SigningKeyView } from '../../../contracts/messages/token-issuer.js';
import { call } from '../../../infra/bus/typed.js';
import type { AdminSession, CliContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { printJson, printRows, type Column } from '../output.js';

/**
 * `idp keys list|rotate` (DESIGN §7): the signing keys, as commands to the token-issuer that owns
 * the keyring (over NATS as the admin identity, or its own handler in this process on the
 * SQLite file). A rotation publishes a next key that signs only after the JWKS propagation
 * delay; `--compromised KID` takes a key out of JWKS and refuses its tokens at once.
 */
export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program.command('keys').description('the signing keys: list them, rotate them, revoke a compromised one');

  keys
    .command('list')
    .description('every signing key of the tenant and its state: next, active, retired, removed or revoked')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { keys: rows } = await withAdmin(ctx, (session) => call(session.bus, ListSigningKeys, { ctx: session.requestContext() }, TIMEOUT));
      printRows(ctx.stdout, options.json === true, rows, COLUMNS);
    });

  keys
    .command('rotate')
    .description('publish a next key (in JWKS now, signing after IDP_KEY_ACTIVATION_DELAY_SECONDS), or revoke a compromised key at once')
    .addOption(new Option('--alg <alg>', 'rotate only this algorithm (default: both)').choices(SigningAlg.options))
    .option('--compromised <kid>', 'revoke this key now: out of JWKS, every token it signed refused; an active key is replaced at once')
    .option('--json', 'print JSON')
    .action(async (options: { alg?: SigningAlg; compromised?: string; json?: boolean }) => {
      if (options.compromised !== undefined) {
        if (options.alg !== undefined) throw new CliError(EXIT.usage, '--alg and --compromised do not go together: a compromised key is replaced by a key of its own algorithm');
        const kid = options.compromised;
        const reply = await withAdmin(ctx, (session) => call(session.bus, RevokeSigningKey, { kid, reason: 'compromised', ctx: session.requestContext() }, TIMEOUT));
        if (!reply.found) throw new CliError(EXIT.notFound, `no signing key has kid ${kid}`);
        if (options.json) return printJson(ctx.stdout, { revoked: reply.revoked, replacement: reply.replacement, keys: reply.keys });
        ctx.stdout.write(`revoked ${reply.revoked.alg} key ${reply.revoked.kid} at ${reply.revoked.revokedAt}: out of JWKS, its tokens refused\n`);
        if (reply.replacement) ctx.stdout.write(`${reply.replacement.alg} key ${reply.replacement.kid} signs from now on (no propagation delay)\n`);
        printRows(ctx.stdout, false, reply.keys, COLUMNS);
        return;
      }
      const alg = options.alg;
      const reply = await withAdmin(ctx, (session) => call(session.bus, RotateSigningKeys, { ...(alg ? { alg } : {}), ctx: session.requestContext() }, TIMEOUT));
      if (options.json) return printJson(ctx.stdout, reply);
      for (const key of reply.generated) ctx.stdout.write(`next ${key.alg} key ${key.kid}: in JWKS now, signs from ${key.activatesAt}\n`);
      printRows(ctx.stdout, false, reply.keys, COLUMNS);
    });
}

/**
 * Generating an RSA key pair takes a while on a busy machine (seconds on two loaded cores): the
 * answer is waited for longer than a request's usual 5 s, so that a rotation that will succeed is
 * not reported as unavailable. A rotation whose answer is lost shows in `idp keys list`.
 */
const TIMEOUT = { timeoutMs: 30_000 };

const COLUMNS: ReadonlyArray<Column<SigningKeyView>> = [
  { header: 'KID', value: (k) => k.kid },
  { header: 'ALG', value: (k) => k.alg },
  { header: 'STATE', value: (k) => k.state },
  { header: 'CREATED', value: (k) => k.createdAt },
  { header: 'ACTIVATES', value: (k) => k.activatesAt },
  { header: 'RETIRED', value: (k) => k.retiredAt },
  { header: 'REMOVES/REVOKED', value: (k) => k.revokedAt ?? k.removesAt },
];

async function withAdmin<T>(ctx: CliContext, work: (session: AdminSession) => Promise<T>): Promise<T> {
  const session = await ctx.openAdmin();
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}
