import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { Login, ResolveSession, UserClaims } from '../../contracts/messages/authn.js';
import { AuthenticateClient } from '../../contracts/messages/client-registry.js';
import { GrantTokens, IntrospectToken, ValidateAccessToken } from '../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import type { Bus } from '../../infra/bus/port.js';
import { call } from '../../infra/bus/typed.js';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { createLogger } from '../../infra/log/logger.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { embeddedAdminSession } from '../../services/cli/admin-session.js';
import { EXIT } from '../../services/cli/exit-codes.js';
import { loadEmbeddedConfig } from '../../services/embedded/config.js';
import { startEmbeddedServices, type EmbeddedServices } from '../../services/embedded/embedded-services.js';
import { verifyLog } from '../../services/shared/integrity/verify-log.js';
import { runIdpInProcess } from '../support/cli.js';

/**
 * `idp user …` and `idp client …` in embedded mode against the in-memory store: the commands run
 * in the test's process (runIdpInProcess) with an embedded admin session, the services' own
 * handlers on the same log; a "server" (the same services, role server, their own projections)
 * follows that log as a running embedded server does, and answers the token requests.
 */
const kek = randomBytes(32);
const store = new InMemoryEventStore();
const dataKeys = new InMemoryDataKeyStore(kek);
const env = { IDP_ARGON2_MEMORY_KIB: '8192', IDP_ARGON2_TIME_COST: '1' };
let server: EmbeddedServices;
let bus: Bus;

const admin = () => embeddedAdminSession({ env, tenant: 'default', actorId: 'test-admin', eventStore: store, dataKeys, kek });
const idp = (argv: string[], stdin?: string) => runIdpInProcess(argv, { store, admin, ...(stdin !== undefined ? { stdin } : {}) });
const ctx = (): RequestContext => ({ tenant: 'default', correlationId: `test-${uuidv7()}`, causationId: null, actor: { kind: 'system', id: 'test' } });
const json = <T>(stdout: string) => JSON.parse(stdout) as T;

beforeAll(async () => {
  server = await startEmbeddedServices({
    config: loadEmbeddedConfig({ ...env, IDP_DEMO: 'off' }),
    kek,
    eventStore: store,
    dataKeys,
    projectionStore: new InMemoryProjectionStore(),
    logger: createLogger({ level: 'silent' }),
  });
  bus = server.connect();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

/** Polls until `check` holds (the server follows the log: what the CLI appended reaches it shortly). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within 10 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Client = { clientId: string; clientSecret: string };
const auth = (client: Client) => ({ clientId: client.clientId, method: 'client_secret_basic' as const, clientSecret: client.clientSecret });

async function createPasswordClient(): Promise<Client> {
  const run = await idp([
    'client', 'create', '--name', 'Password app', '--grant-type', 'password', 'refresh_token', '--scope', 'openid offline_access', '--json',
  ]);
  expect(run.code).toBe(EXIT.ok);
  const created = json<{ client: { clientId: string }; client_secret: string }>(run.stdout);
  return { clientId: created.client.clientId, clientSecret: created.client_secret };
}

async function createUser(password: string, claims?: object): Promise<{ sub: string; username: string }> {
  const username = `user-${randomBytes(4).toString('hex')}`;
  const run = await idp(['user', 'create', username, '--password-stdin', ...(claims ? ['--claims', JSON.stringify(claims)] : []), '--json'], `${password}\n`);
  expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
  return { sub: json<{ sub: string }>(run.stdout).sub, username };
}

const passwordGrant = (client: Client, username: string, password: string) =>
  call(bus, GrantTokens, { ctx: ctx(), client: auth(client), grant: { grantType: 'password', username, password, scope: 'openid offline_access', resources: [] } });
const refresh = (client: Client, refreshToken: string) =>
  call(bus, GrantTokens, { ctx: ctx(), client: auth(client), grant: { grantType: 'refresh_token', refreshToken, resources: [] } });
const active = async (client: Client, token: string) =>
  (await call(bus, IntrospectToken, { ctx: ctx(), caller: auth(client), token, format: 'json' })).response.active;
const validForUserinfo = async (token: string) => (await call(bus, ValidateAccessToken, { ctx: ctx(), token })).active;
const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => (error instanceof OAuthError ? error.code : String(error)));
const loginOk = async (username: string, password: string) =>
  (await call(bus, Login, { ctx: ctx(), username, password, clientId: null })).authenticated;

async function userEvents(sub: string): Promise<string[]> {
  return (await store.readStream(`user-default-${sub}`)).events.map((event) => event.type);
}

describe('idp user (embedded, in-memory store, in-process)', () => {
  let client: Client;
  beforeAll(async () => {
    client = await createPasswordClient();
  }, 60_000);

  it('create, show (by sub and by username) and list; the password never appears in any output', async () => {
    const password = `pw-${randomBytes(12).toString('base64url')}`;
    const { sub, username } = await createUser(password, { name: 'Alice Liddell', email: 'alice@example.com' });
    const bySub = await idp(['user', 'show', sub, '--json']);
    expect(bySub.code).toBe(EXIT.ok);
    expect(json(bySub.stdout)).toMatchObject({
      sub,
      username,
      status: 'active',
      lastLoginAt: null,
      failedLogins: 0,
      dataKey: 'present',
      claims: { name: 'Alice Liddell', email: 'alice@example.com', email_verified: false },
    });
    const byName = await idp(['user', 'show', username]);
    expect(byName.stdout).toMatch(new RegExp(`^sub +${sub}$`, 'm'));
    expect(byName.stdout).toMatch(/^claim name +Alice Liddell$/m);

    expect(await loginOk(username, password)).toBe(true);
    expect(await loginOk(username, 'wrong')).toBe(false);
    const listed = json<Array<{ sub: string; lastLoginAt: string | null; failedLogins: number }>>((await idp(['user', 'list', '--json'])).stdout);
    expect(listed.find((u) => u.sub === sub)).toMatchObject({ failedLogins: 1, lastLoginAt: expect.any(String) });
    const table = (await idp(['user', 'list'])).stdout;
    expect(table.split('\n')[0]).toMatch(/^SUB +USERNAME +STATUS +REGISTERED +LAST LOGIN +FAILED$/);
    expect(table).toContain(username);
    for (const run of [bySub, byName]) expect(run.stdout + run.stderr).not.toContain(password);
  });

  it('refuses what is wrong before anything is appended: a taken username, bad claims, no password, an empty one', async () => {
    const { username } = await createUser('first-password');
    const before = (await store.readAll()).length;
    const taken = await idp(['user', 'create', username, '--password-stdin'], 'other-password');
    expect(taken.code).toBe(EXIT.refused);
    expect(taken.stderr).toMatch(/registered already.*nothing was changed/);
    expect((await idp(['user', 'create', 'bob', '--password-stdin', '--claims', '{"nmae":"Bob"}'], 'pw')).code).toBe(EXIT.usage);
    expect((await idp(['user', 'create', 'bob', '--password-stdin', '--claims', '{"email":"not an email"}'], 'pw')).code).toBe(EXIT.usage);
    expect((await idp(['user', 'create', 'bob', '--password-stdin', '--claims', 'not json'], 'pw')).code).toBe(EXIT.usage);
    const noPassword = await idp(['user', 'create', 'bob']);
    expect(noPassword.code).toBe(EXIT.usage);
    expect(noPassword.stderr).toMatch(/--password-stdin/);
    expect((await idp(['user', 'create', 'bob', '--password-stdin'], '\n')).code).toBe(EXIT.usage);
    expect((await idp(['user', 'create', 'bob', '--password', 'on-the-command-line'])).code).toBe(EXIT.usage);
    expect((await store.readAll()).length).toBe(before);
  });

  it('disable: the user\'s tokens stop working (introspection, userinfo, refresh), no login, no session; twice changes nothing', async () => {
    const password = 'disable-me-password';
    const { sub, username } = await createUser(password);
    const tokens = await passwordGrant(client, username, password);
    const session = await call(bus, Login, { ctx: ctx(), username, password, clientId: null });
    if (!session.authenticated || session.session === null) throw new Error('no session');
    expect(await active(client, tokens.access_token)).toBe(true);

    const run = await idp(['user', 'disable', sub, '--reason', 'left the company']);
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout).toMatch(/^disabled .* every token issued until then is refused$/m);
    await eventually(async () => !(await active(client, tokens.access_token)), 'the access token inactive');
    expect(await validForUserinfo(tokens.access_token)).toBe(false);
    expect(await active(client, tokens.refresh_token!)).toBe(false);
    expect(await refusal(refresh(client, tokens.refresh_token!))).toBe('invalid_grant');
    expect(await loginOk(username, password)).toBe(false);
    expect(await refusal(passwordGrant(client, username, password))).toBe('invalid_grant');
    expect((await call(bus, ResolveSession, { ctx: ctx(), sessionToken: session.sessionToken })).session).toBeNull();
    expect(json(( await idp(['user', 'show', sub, '--json'])).stdout)).toMatchObject({ status: 'disabled', disabledReason: 'left the company' });

    const again = await idp(['user', 'disable', sub, '--json']);
    expect(again.code).toBe(EXIT.ok);
    expect(json(again.stdout)).toMatchObject({ changed: false, user: { status: 'disabled', disabledReason: 'left the company' } });
    expect((await userEvents(sub)).filter((type) => type === 'user.disabled')).toHaveLength(1);
  });

  it('a disabled user\'s wrong and right passwords get the same answer, and nothing is recorded', async () => {
    const { sub, username } = await createUser('right-password');
    expect((await idp(['user', 'disable', sub])).code).toBe(EXIT.ok);
    const before = await userEvents(sub);
    const answers = await Promise.all([loginOk(username, 'right-password'), loginOk(username, 'wrong-password'), loginOk(`nobody-${sub}`, 'x')]);
    expect(answers).toEqual([false, false, false]);
    expect(await userEvents(sub)).toEqual(before);
  });

  it('enable: logins and new tokens work again, tokens from before stay dead', async () => {
    const password = 'enable-me-password';
    const { sub, username } = await createUser(password);
    const old = await passwordGrant(client, username, password);
    expect((await idp(['user', 'disable', sub])).code).toBe(EXIT.ok);
    await eventually(async () => !(await active(client, old.access_token)), 'the old token inactive');
    const enabled = await idp(['user', 'enable', sub]);
    expect(enabled).toMatchObject({ code: EXIT.ok, stderr: '' });
    // Second precision: a token of the enabling's own second is still under the watermark.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await eventually(async () => loginOk(username, password), 'the login works again');
    const fresh = await passwordGrant(client, username, password);
    expect(await active(client, fresh.access_token)).toBe(true);
    expect(await active(client, old.access_token)).toBe(false);
    expect(await refusal(refresh(client, old.refresh_token!))).toBe('invalid_grant');
    expect((await idp(['user', 'enable', sub, '--json'])).stdout).toMatch(/"changed": false/);
  });

  it('set-password: the old password stops working, the new one works; read from stdin only', async () => {
    const { sub, username } = await createUser('old-password');
    const run = await idp(['user', 'set-password', sub, '--password-stdin'], 'new-password\n');
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout).not.toContain('new-password');
    expect(await loginOk(username, 'old-password')).toBe(false);
    expect(await loginOk(username, 'new-password')).toBe(true);
    expect((await idp(['user', 'set-password', sub])).code).toBe(EXIT.usage);
    const sealed = (await store.readStream(`user-default-${sub}`)).events.find((event) => event.type === 'user.password_set');
    expect(JSON.stringify(sealed?.data)).not.toMatch(/argon2id|new-password/);
  });

  it('forget: claims gone, logins fail, every token refused, the log still verifies; twice is fine, enable and set-password are refused', async () => {
    const password = 'forget-me-password';
    const { sub, username } = await createUser(password, { name: 'Forget Me', email: 'forget@example.com' });
    const tokens = await passwordGrant(client, username, password);
    const run = await idp(['user', 'forget', sub]);
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(await dataKeys.get('default', sub)).toBeUndefined();
    await eventually(async () => !(await active(client, tokens.access_token)), 'the access token inactive');
    expect(await refusal(refresh(client, tokens.refresh_token!))).toBe('invalid_grant');
    expect(await loginOk(username, password)).toBe(false);
    expect((await call(bus, UserClaims, { ctx: ctx(), sub, scopes: ['openid', 'profile', 'email'] })).claims).toEqual({ sub });
    const shown = json<Record<string, unknown>>((await idp(['user', 'show', sub, '--json'])).stdout);
    expect(shown).toMatchObject({ sub, username: null, status: 'forgotten', claims: null, dataKey: 'destroyed' });

    const twice = await idp(['user', 'forget', sub, '--json']);
    expect(twice.code).toBe(EXIT.ok);
    expect(json(twice.stdout)).toMatchObject({ changed: false });
    const enable = await idp(['user', 'enable', sub]);
    expect(enable.code).toBe(EXIT.refused);
    expect(enable.stderr).toMatch(/forgotten/);
    expect((await idp(['user', 'set-password', sub, '--password-stdin'], 'x-password')).code).toBe(EXIT.refused);
    expect((await idp(['user', 'disable', sub, '--json'])).stdout).toMatch(/"changed": false/);
    expect((await userEvents(sub)).filter((type) => type === 'user.forgotten')).toHaveLength(1);
    expect(await verifyLog(store)).toMatchObject({ ok: true, failureCount: 0 });
  });

  it('an unknown or malformed sub exits 3 for every command, appending nothing', async () => {
    const before = (await store.readAll()).length;
    for (const sub of ['00000000-0000-4000-8000-000000000000', 'no such user', '../x']) {
      for (const argv of [['show', sub], ['disable', sub], ['enable', sub], ['forget', sub]]) {
        const run = await idp(['user', ...argv]);
        expect([argv, run.code]).toEqual([argv, EXIT.notFound]);
        expect(run.stderr).toMatch(/no user/);
      }
      expect((await idp(['user', 'set-password', sub, '--password-stdin'], 'some-password')).code).toBe(EXIT.notFound);
    }
    expect((await store.readAll()).length).toBe(before);
  });

  it('disable racing logins: every token any login got is refused afterwards, and no login succeeds after the disable answered', async () => {
    const password = 'race-password';
    const { sub, username } = await createUser(password);
    const logins = Array.from({ length: 8 }, () => passwordGrant(client, username, password).then((t) => t, () => undefined));
    const disabled = idp(['user', 'disable', sub]);
    const [results, run] = await Promise.all([Promise.all(logins), disabled]);
    expect(run.code).toBe(EXIT.ok);
    for (const tokens of results.filter((t) => t !== undefined)) {
      await eventually(async () => !(await active(client, tokens!.access_token)), 'a racing login\'s token inactive');
      expect(await refusal(refresh(client, tokens!.refresh_token!))).toBe('invalid_grant');
    }
    expect(await loginOk(username, password)).toBe(false);
    expect((await userEvents(sub)).filter((type) => type === 'user.disabled')).toHaveLength(1);
  });
});

describe('idp client (embedded, in-memory store, in-process)', () => {
  it('create prints the secret once; show and list never do', async () => {
    const run = await idp(['client', 'create', '--name', 'Orders', '--grant-type', 'client_credentials', '--scope', 'orders:read']);
    expect(run.code).toBe(EXIT.ok);
    const clientId = /^client_id +(\S+)$/m.exec(run.stdout)?.[1];
    const secret = /^client_secret +(\S+)$/m.exec(run.stdout)?.[1];
    expect(clientId).toBeDefined();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(run.stderr).toMatch(/shown this once/);
    const shown = await idp(['client', 'show', clientId!]);
    expect(shown.stdout).toMatch(/^client_name +Orders$/m);
    const listed = await idp(['client', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`^${clientId} +Orders +client_secret_basic +client_credentials +orders:read +-$`, 'm'));
    for (const out of [shown.stdout, listed.stdout, (await idp(['client', 'list', '--json'])).stdout]) expect(out).not.toContain(secret);
  });

  it('--metadata takes RFC 7591 metadata; what the registry refuses exits 4 with its error, appending nothing', async () => {
    const run = await idp(['client', 'create', '--metadata', '{"client_name":"Meta","grant_types":["client_credentials"],"scope":"orders:read orders:write"}', '--json']);
    expect(json(run.stdout)).toMatchObject({ client: { clientName: 'Meta', scope: 'orders:read orders:write', grantTypes: ['client_credentials'] } });
    const before = (await store.readAll()).length;
    const bad = await idp(['client', 'create', '--redirect-uri', 'not a uri']);
    expect(bad.code).toBe(EXIT.refused);
    expect(bad.stderr).toMatch(/invalid_redirect_uri|invalid_client_metadata/);
    expect((await idp(['client', 'create', '--metadata', '[1]'])).code).toBe(EXIT.usage);
    expect((await store.readAll()).length).toBe(before);
  });

  it('rotate-secret prints the new secret; the old one stops authenticating', async () => {
    const created = json<{ client: { clientId: string }; client_secret: string }>(
      (await idp(['client', 'create', '--grant-type', 'client_credentials', '--scope', 'orders:read', '--json'])).stdout,
    );
    const clientId = created.client.clientId;
    const rotated = json<{ client_secret: string }>((await idp(['client', 'rotate-secret', clientId, '--json'])).stdout);
    expect(rotated.client_secret).not.toBe(created.client_secret);
    const authenticate = (clientSecret: string) =>
      refusal(call(bus, AuthenticateClient, { ctx: ctx(), clientId, method: 'client_secret_basic', clientSecret }));
    await eventually(async () => (await authenticate(created.client_secret)) === 'invalid_client', 'the old secret refused');
    await eventually(async () => (await authenticate(rotated.client_secret)) === undefined, 'the new secret accepted');
  });

  it('revoke-tokens ends every token of the client; delete ends the client; both exit 3 for an unknown client', async () => {
    const created = json<{ client: { clientId: string }; client_secret: string }>(
      (await idp(['client', 'create', '--grant-type', 'client_credentials', '--scope', 'orders:read', '--json'])).stdout,
    );
    const client = { clientId: created.client.clientId, clientSecret: created.client_secret };
    await eventually(async () => (await refusal(call(bus, AuthenticateClient, { ctx: ctx(), ...auth(client) }))) === undefined, 'the server knows the client');
    const grant = () => call(bus, GrantTokens, { ctx: ctx(), client: auth(client), grant: { grantType: 'client_credentials', scope: 'orders:read', resources: [] } });
    const token = (await grant()).access_token;
    expect(await active(client, token)).toBe(true);
    const revoked = await idp(['client', 'revoke-tokens', client.clientId]);
    expect(revoked.stdout).toMatch(/^revoked every token of \S+ issued until \S+Z$/m);
    await eventually(async () => !(await active(client, token)), 'the client\'s token inactive');
    expect(json((await idp(['client', 'list', '--json'])).stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ clientId: client.clientId, tokensRevokedAt: expect.any(String) })]),
    );

    expect((await idp(['client', 'delete', client.clientId])).code).toBe(EXIT.ok);
    expect((await idp(['client', 'show', client.clientId])).code).toBe(EXIT.notFound);
    expect((await idp(['client', 'list'])).stdout).not.toContain(client.clientId);
    const before = (await store.readAll()).length;
    for (const argv of [['show'], ['rotate-secret'], ['revoke-tokens'], ['delete']]) {
      expect((await idp(['client', ...argv, client.clientId])).code).toBe(EXIT.notFound);
      expect((await idp(['client', ...argv, 'never-registered'])).code).toBe(EXIT.notFound);
    }
    expect((await store.readAll()).length).toBe(before);
  });
});
