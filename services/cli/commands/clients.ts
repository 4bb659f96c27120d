import type { Command } from 'commander';
import {
  DeleteClient,
  GetClient,
  ListClients,
  RegisterClient,
  RevokeClientTokens,
  RotateClientSecret,
  type ClientView,
} from '../../../contracts/messages/client-registry.js';
import { call } from '../../../infra/bus/typed.js';
import { withAdminSession } from '../admin-command.js';
import type { AdminSession, CliContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { printJson, printRows, renderRecord, type Column } from '../output.js';

/**
 * `idp client create|show|list|rotate-secret|revoke-tokens|delete`: bus messages to the
 * client-registry as the admin identity. A new secret (and the RFC 7592 registration access
 * token) is printed once, when it is made: only its hash is kept.
 */
export function registerClients(program: Command, ctx: CliContext): void {
  const client = program.command('client').description('register, inspect, rotate, revoke and delete OAuth clients (client-registry)');

  client
    .command('create')
    .description('register a client (RFC 7591 metadata as options or --metadata); prints its secret once')
    .option('--metadata <json>', 'RFC 7591 client metadata as a JSON object; the options below override its members')
    .option('--name <name>', 'client_name')
    .option('--redirect-uri <uri...>', 'redirect_uris')
    .option('--grant-type <type...>', 'grant_types, e.g. authorization_code refresh_token client_credentials')
    .option('--response-type <type...>', 'response_types')
    .option('--scope <scope>', 'scope, space-separated')
    .option('--auth-method <method>', 'token_endpoint_auth_method: client_secret_basic, client_secret_post or none')
    .option('--application-type <type>', 'application_type: web or native')
    .option('--json', 'print JSON')
    .action(async (options: CreateOptions) => {
      const metadata = clientMetadata(options);
      const result = await withAdminSession(ctx, (session) =>
        // An administrator is trusted as far as the holder of the initial access token.
        call(session.bus, RegisterClient, { metadata, authorizedBy: 'initial_access_token', ctx: session.requestContext() }),
      );
      const secrets = {
        client_secret: result.clientSecret ?? null,
        registration_access_token: result.registrationAccessToken ?? null,
      };
      if (options.json) return printJson(ctx.stdout, { client: result.client, ...secrets });
      ctx.stdout.write(
        renderRecord([
          ['client_id', result.client.clientId],
          ['client_secret', secrets.client_secret ?? 'none (public client)'],
          ['registration_access_token', secrets.registration_access_token],
          ...viewEntries(result.client).slice(1),
        ]),
      );
      if (secrets.client_secret !== null) ctx.stderr.write('idp: the client secret is shown this once; only its hash is kept\n');
    });

  client
    .command('show <client-id>')
    .description('one client as registered (never its secret)')
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: { json?: boolean }) => {
      const found = await withAdminSession(ctx, (session) => existingClient(session, clientId));
      if (options.json) printJson(ctx.stdout, found);
      else ctx.stdout.write(renderRecord(viewEntries(found)));
    });

  client
    .command('list')
    .description('every client not deleted, in registration order')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { clients } = await withAdminSession(ctx, (session) => call(session.bus, ListClients, { ctx: session.requestContext() }));
      printRows(ctx.stdout, options.json === true, clients, CLIENT_COLUMNS);
    });

  client
    .command('rotate-secret <client-id>')
    .description('a new secret, printed once; the old one is refused from now on')
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: { json?: boolean }) => {
      const { clientSecret } = await withAdminSession(ctx, async (session) => {
        await existingClient(session, clientId);
        return call(session.bus, RotateClientSecret, { clientId, ctx: session.requestContext() });
      });
      if (options.json) printJson(ctx.stdout, { client_id: clientId, client_secret: clientSecret });
      else ctx.stdout.write(renderRecord([['client_id', clientId], ['client_secret', clientSecret]]));
    });

  client
    .command('revoke-tokens <client-id>')
    .description('a watermark: every token of the client issued until now stops working at once')
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: { json?: boolean }) => {
      const { revokedAt } = await withAdminSession(ctx, async (session) => {
        await existingClient(session, clientId);
        return call(session.bus, RevokeClientTokens, { clientId, ctx: session.requestContext() });
      });
      if (options.json) printJson(ctx.stdout, { client_id: clientId, revoked_at: revokedAt });
      else ctx.stdout.write(`revoked every token of ${clientId} issued until ${revokedAt}\n`);
    });

  client
    .command('delete <client-id>')
    .description('deletes the client: it cannot authenticate any more and all its tokens are refused')
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: { json?: boolean }) => {
      await withAdminSession(ctx, async (session) => {
        await existingClient(session, clientId);
        return call(session.bus, DeleteClient, { clientId, ctx: session.requestContext() });
      });
      if (options.json) printJson(ctx.stdout, { client_id: clientId, deleted: true });
      else ctx.stdout.write(`deleted ${clientId}: it cannot authenticate, and every token of it is refused\n`);
    });
}

interface CreateOptions {
  metadata?: string;
  name?: string;
  redirectUri?: string[];
  grantType?: string[];
  responseType?: string[];
  scope?: string;
  authMethod?: string;
  applicationType?: string;
  json?: boolean;
}

/** A client that exists (not deleted), or exit 3. */
async function existingClient(session: AdminSession, clientId: string): Promise<ClientView> {
  const { client } = await call(session.bus, GetClient, { clientId, ctx: session.requestContext() });
  if (!client) throw new CliError(EXIT.notFound, `no client ${clientId}`);
  return client;
}

function clientMetadata(options: CreateOptions): Record<string, unknown> {
  let base: unknown = {};
  if (options.metadata !== undefined) {
    try {
      base = JSON.parse(options.metadata);
    } catch {
      throw new CliError(EXIT.usage, '--metadata must be a JSON object');
    }
    if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new CliError(EXIT.usage, '--metadata must be a JSON object');
  }
  const given: Record<string, unknown> = {
    client_name: options.name,
    redirect_uris: options.redirectUri,
    grant_types: options.grantType,
    response_types: options.responseType,
    scope: options.scope,
    token_endpoint_auth_method: options.authMethod,
    application_type: options.applicationType,
  };
  return { ...(base as Record<string, unknown>), ...Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) };
}

function viewEntries(client: ClientView): Array<[string, unknown]> {
  return [
    ['client_id', client.clientId],
    ['client_name', client.clientName],
    ['application_type', client.applicationType],
    ['token_endpoint_auth_method', client.tokenEndpointAuthMethod],
    ['grant_types', client.grantTypes],
    ['response_types', client.responseTypes],
    ['redirect_uris', client.redirectUris],
    ['scope', client.scope],
    ['post_logout_redirect_uris', client.postLogoutRedirectUris],
    ['backchannel_logout_uri', client.backchannelLogoutUri],
    ['client_id_issued_at', new Date(client.clientIdIssuedAt * 1000).toISOString()],
  ];
}

type ListedClient = ClientView & { tokensRevokedAt: string | null };
const CLIENT_COLUMNS: ReadonlyArray<Column<ListedClient>> = [
  { header: 'CLIENT_ID', value: (c) => c.clientId },
  { header: 'NAME', value: (c) => c.clientName },
  { header: 'AUTH', value: (c) => c.tokenEndpointAuthMethod },
  { header: 'GRANT TYPES', value: (c) => c.grantTypes.join(',') },
  { header: 'SCOPE', value: (c) => c.scope },
  { header: 'TOKENS REVOKED', value: (c) => c.tokensRevokedAt },
];
