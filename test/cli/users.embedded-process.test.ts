import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EXIT } from '../../services/cli/exit-codes.js';
import {
  clientCredentials,
  introspectionActive,
  jsonOf,
  passwordGrant,
  refreshOutcome,
  takesEffect,
  userinfoStatus,
  type HttpClient,
} from '../support/admin-http-flows.js';
import { runIdp } from '../support/cli.js';
import { startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';

/**
 * Issue 11, "takes effect at once either way": the real `idp` bin on the SQLite file of a running
 * embedded server (the server follows the log by polling it), and on the same file with the
 * server stopped (the command works alone; after a restart the effect holds).
 */
const TAKES_EFFECT_WITHIN_MS = 1000;

let server: EmbeddedProcess;
let dataDir: string;
const idp = (argv: string[], stdin?: string) =>
  runIdp(argv, {
    env: { EVENT_STORE_URL: `sqlite:${path.join(dataDir, 'idp.db')}`, IDP_DATA_DIR: dataDir, IDP_ADMIN_ACTOR: 'ops-test' },
    ...(stdin !== undefined ? { stdin } : {}),
  });

beforeAll(async () => {
  server = await startEmbeddedProcess();
  dataDir = server.dataDir;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

async function newClient(argv: string[]): Promise<HttpClient> {
  const created = jsonOf<{ client: { clientId: string }; client_secret: string }>(await idp(['client', 'create', ...argv, '--json']));
  return { clientId: created.client.clientId, clientSecret: created.client_secret };
}

async function newUser(): Promise<{ sub: string; username: string; password: string }> {
  const username = `user-${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  const { sub } = jsonOf<{ sub: string }>(await idp(['user', 'create', username, '--password-stdin', '--json'], password));
  return { sub, username, password };
}

describe('idp user / idp client, the bin on the SQLite file of an embedded server', () => {
  let app: HttpClient;
  let machine: HttpClient;
  beforeAll(async () => {
    app = await newClient(['--name', 'Password app', '--grant-type', 'password', 'refresh_token', '--scope', 'openid offline_access']);
    machine = await newClient(['--name', 'Machine', '--grant-type', 'client_credentials', '--scope', 'orders:read']);
  }, 120_000);

  it('the running server sees `idp user disable` within a second: introspection inactive, userinfo 401, refresh invalid_grant, no login', async () => {
    const user = await newUser();
    const tokens = await firstGrant(user);
    expect(await introspectionActive(server.issuer, app, tokens.access_token)).toBe(true);
    expect(await introspectionActive(server.issuer, app, tokens.refresh_token!)).toBe(true);
    expect(await userinfoStatus(server.issuer, tokens.access_token)).toBe(200);

    const run = await idp(['user', 'disable', user.sub, '--reason', 'offboarded']);
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    await takesEffect(async () => !(await introspectionActive(server.issuer, app, tokens.access_token)), 'access token inactive', TAKES_EFFECT_WITHIN_MS);
    expect(await introspectionActive(server.issuer, app, tokens.refresh_token!)).toBe(false);
    expect(await userinfoStatus(server.issuer, tokens.access_token)).toBe(401);
    expect(await refreshOutcome(server.issuer, app, tokens.refresh_token!)).toEqual({ status: 400, error: 'invalid_grant' });
    await expect(passwordGrant(server.issuer, app, user.username, user.password)).rejects.toThrow(/400 .*invalid_grant/);
    expect(jsonOf(await idp(['user', 'show', user.sub, '--json']))).toMatchObject({ status: 'disabled', disabledReason: 'offboarded' });
  }, 120_000);

  it('the running server sees `idp client revoke-tokens` within a second', async () => {
    const { access_token } = await clientCredentials(server.issuer, machine, 'orders:read');
    expect(await introspectionActive(server.issuer, machine, access_token)).toBe(true);
    const run = await idp(['client', 'revoke-tokens', machine.clientId]);
    expect(run.code).toBe(EXIT.ok);
    await takesEffect(async () => !(await introspectionActive(server.issuer, machine, access_token)), 'client token inactive', TAKES_EFFECT_WITHIN_MS);
  }, 120_000);

  it('with the server stopped the commands work alone, and after a restart their effect holds', async () => {
    const user = await newUser();
    const tokens = await firstGrant(user);
    // The client credentials token of a second later than the previous test's watermark.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { access_token: machineToken } = await clientCredentials(server.issuer, machine, 'orders:read');
    expect(await introspectionActive(server.issuer, machine, machineToken)).toBe(true);
    const port = server.port;
    await server.stop();

    expect((await idp(['user', 'disable', user.sub])).code).toBe(EXIT.ok);
    expect((await idp(['client', 'revoke-tokens', machine.clientId])).code).toBe(EXIT.ok);
    const forgotten = await newUser();
    expect((await idp(['user', 'forget', forgotten.sub])).code).toBe(EXIT.ok);

    server = await startEmbeddedProcess({ dataDir, port });
    expect(await introspectionActive(server.issuer, app, tokens.access_token)).toBe(false);
    expect(await introspectionActive(server.issuer, machine, machineToken)).toBe(false);
    expect(await userinfoStatus(server.issuer, tokens.access_token)).toBe(401);
    expect(await refreshOutcome(server.issuer, app, tokens.refresh_token!)).toEqual({ status: 400, error: 'invalid_grant' });
    await expect(passwordGrant(server.issuer, app, user.username, user.password)).rejects.toThrow(/400 .*invalid_grant/);
    await expect(passwordGrant(server.issuer, app, forgotten.username, forgotten.password)).rejects.toThrow(/400 .*invalid_grant/);
    expect(jsonOf(await idp(['user', 'show', forgotten.username, '--json']))).toMatchObject({ status: 'forgotten', claims: null, dataKey: 'destroyed' });

    // Enabled again: a new login works, the old tokens stay refused.
    expect((await idp(['user', 'enable', user.sub])).code).toBe(EXIT.ok);
    const fresh = await takesEffectGrant(user);
    expect(await introspectionActive(server.issuer, app, fresh.access_token)).toBe(true);
    expect(await introspectionActive(server.issuer, app, tokens.access_token)).toBe(false);
  }, 180_000);

  /**
   * The user `idp user create` just appended reaches the running server's projections within a
   * second (it polls the log): the first login waits for that, as a login right after `enable` does.
   */
  async function firstGrant(user: { username: string; password: string }) {
    let tokens: Awaited<ReturnType<typeof passwordGrant>> | undefined;
    await takesEffect(
      async () => {
        tokens = await passwordGrant(server.issuer, app, user.username, user.password).catch(() => undefined);
        return tokens !== undefined;
      },
      'the first login of a user created by idp',
      10_000,
    );
    return tokens!;
  }

  /** A login right after `enable` waits for the server to follow, and for the watermark's second to pass. */
  async function takesEffectGrant(user: { username: string; password: string }) {
    let tokens: Awaited<ReturnType<typeof passwordGrant>> | undefined;
    await takesEffect(
      async () => {
        tokens = await passwordGrant(server.issuer, app, user.username, user.password).catch(() => undefined);
        return tokens !== undefined && (await introspectionActive(server.issuer, app, tokens.access_token));
      },
      'a new login after enable',
      10_000,
    );
    return tokens!;
  }
});
