import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { DisableUser, EnableUser, ForgetUser, GetUser, ListUsers, SetUserPassword } from '../../contracts/messages/authn.js';
import { ListClients } from '../../contracts/messages/client-registry.js';
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
import { startDistributed, type DistributedTopology } from '../support/distributed-topology.js';

/**
 * `idp user …` and `idp client …` in distributed mode: the real bin with BUS_URL=nats:// and the
 * admin's NKey seed, against the four services on a nats-server with the generated users and
 * permissions (NATS itself refuses the admin messages to any other identity), the effect seen
 * through the gateway over HTTP.
 */
let topology: DistributedTopology;
const open: NatsConnection[] = [];

beforeAll(async () => {
  topology = await startDistributed({ secured: true });
}, 240_000);

afterAll(async () => {
  await Promise.all(open.splice(0).map((nc) => nc.close().catch(() => undefined)));
  await topology?.stop();
});

const idp = (argv: string[], stdin?: string) =>
  runIdp(argv, {
    env: {
      BUS_URL: topology.natsUrl,
      EVENT_STORE_URL: topology.eventStoreUrl,
      IDP_NATS_SEED: topology.secrets.nats.admin.seed,
      IDP_ADMIN_ACTOR: 'ops-test',
    },
    ...(stdin !== undefined ? { stdin } : {}),
  });

async function newClient(argv: string[]): Promise<HttpClient & { printed: string }> {
  const run = await idp(['client', 'create', ...argv, '--json']);
  const created = jsonOf<{ client: { clientId: string }; client_secret: string }>(run);
  return { clientId: created.client.clientId, clientSecret: created.client_secret, printed: run.stdout };
}

async function newUser(claims?: object): Promise<{ sub: string; username: string; password: string }> {
  const username = `user-${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  const run = await idp(['user', 'create', username, '--password-stdin', ...(claims ? ['--claims', JSON.stringify(claims)] : []), '--json'], password);
  return { sub: jsonOf<{ sub: string }>(run).sub, username, password };
}

const loginFails = (client: HttpClient, user: { username: string; password: string }) =>
  expect(passwordGrant(topology.issuer, client, user.username, user.password)).rejects.toThrow(/400 .*invalid_grant/);

let app: HttpClient;

describe('idp user / idp client over NATS as the admin identity (secured distributed deployment)', () => {
  beforeAll(async () => {
    app = await newClient(['--name', 'Password app', '--grant-type', 'password', 'refresh_token', '--scope', 'openid offline_access profile email']);
  }, 60_000);

  it('user create, show, list; disable ends the tokens at once; enable; set-password; forget; unknown subs exit 3', async () => {
    const user = await newUser({ name: 'Dana Scully', email: 'dana@example.com' });
    expect(jsonOf(await idp(['user', 'show', user.username, '--json']))).toMatchObject({
      sub: user.sub,
      status: 'active',
      claims: { name: 'Dana Scully', email: 'dana@example.com' },
    });
    const tokens = await passwordGrant(topology.issuer, app, user.username, user.password);
    expect(await introspectionActive(topology.issuer, app, tokens.access_token)).toBe(true);
    const listed = jsonOf<Array<{ sub: string; lastLoginAt: string | null }>>(await idp(['user', 'list', '--json']));
    expect(listed.find((u) => u.sub === user.sub)?.lastLoginAt).toEqual(expect.any(String));

    expect((await idp(['user', 'disable', user.sub])).code).toBe(EXIT.ok);
    // authn writes the watermark through and the token-issuer reads it: refused at the very next request.
    expect(await introspectionActive(topology.issuer, app, tokens.access_token)).toBe(false);
    expect(await userinfoStatus(topology.issuer, tokens.access_token)).toBe(401);
    expect(await introspectionActive(topology.issuer, app, tokens.refresh_token!)).toBe(false);
    expect(await refreshOutcome(topology.issuer, app, tokens.refresh_token!)).toEqual({ status: 400, error: 'invalid_grant' });
    await loginFails(app, user);
    expect(jsonOf(await idp(['user', 'disable', user.sub, '--json']))).toMatchObject({ changed: false });

    expect((await idp(['user', 'enable', user.sub])).code).toBe(EXIT.ok);
    const setPassword = await idp(['user', 'set-password', user.sub, '--password-stdin'], 'a-brand-new-password\n');
    expect(setPassword).toMatchObject({ code: EXIT.ok, stderr: '' });
    await loginFails(app, user);
    const fresh = await takesEffectLogin({ ...user, password: 'a-brand-new-password' });
    expect(await introspectionActive(topology.issuer, app, tokens.access_token)).toBe(false);

    expect((await idp(['user', 'forget', user.sub])).code).toBe(EXIT.ok);
    expect(await introspectionActive(topology.issuer, app, fresh.access_token)).toBe(false);
    await loginFails(app, { ...user, password: 'a-brand-new-password' });
    expect(jsonOf(await idp(['user', 'show', user.sub, '--json']))).toMatchObject({ status: 'forgotten', username: null, claims: null, dataKey: 'destroyed' });
    expect((await idp(['user', 'forget', user.sub])).code).toBe(EXIT.ok);
    expect((await idp(['user', 'enable', user.sub])).code).toBe(EXIT.refused);

    for (const argv of [['show', 'nobody-here'], ['disable', '00000000-0000-4000-8000-000000000000'], ['forget', 'bad sub']]) {
      expect((await idp(['user', ...argv])).code).toBe(EXIT.notFound);
    }
  }, 240_000);

  it('client create prints the secret once; show, list, rotate-secret, revoke-tokens (at once), delete; unknown ids exit 3', async () => {
    const machine = await newClient(['--name', 'Machine', '--grant-type', 'client_credentials', '--scope', 'orders:read']);
    expect(machine.printed).toContain(machine.clientSecret);
    const shown = await idp(['client', 'show', machine.clientId]);
    expect(shown.stdout).toMatch(/^client_name +Machine$/m);
    const listed = await idp(['client', 'list']);
    expect(listed.stdout).toContain(machine.clientId);
    for (const out of [shown.stdout, listed.stdout]) expect(out).not.toContain(machine.clientSecret);

    const rotated = jsonOf<{ client_secret: string }>(await idp(['client', 'rotate-secret', machine.clientId, '--json']));
    await expect(clientCredentials(topology.issuer, machine, 'orders:read')).rejects.toThrow(/401/);
    const current = { clientId: machine.clientId, clientSecret: rotated.client_secret };
    const { access_token } = await clientCredentials(topology.issuer, current, 'orders:read');
    expect(await introspectionActive(topology.issuer, current, access_token)).toBe(true);
    expect((await idp(['client', 'revoke-tokens', machine.clientId])).code).toBe(EXIT.ok);
    expect(await introspectionActive(topology.issuer, current, access_token)).toBe(false);

    expect((await idp(['client', 'delete', machine.clientId])).code).toBe(EXIT.ok);
    await expect(clientCredentials(topology.issuer, current, 'orders:read')).rejects.toThrow(/401/);
    for (const argv of [['show'], ['rotate-secret'], ['revoke-tokens'], ['delete']]) {
      expect((await idp(['client', ...argv, machine.clientId])).code).toBe(EXIT.notFound);
    }
  }, 240_000);

  it('no other identity may send the admin-only messages: the NATS server refuses them', async () => {
    const user = await newUser();
    for (const identity of ['gateway', 'token-issuer', 'client-registry'] as const) {
      const nc = await connect({ servers: topology.natsUrl, name: `test-${identity}`, ...topology.natsAs(identity) });
      open.push(nc);
      for (const subject of [DisableUser.subject, EnableUser.subject, ForgetUser.subject, SetUserPassword.subject, GetUser.subject, ListUsers.subject, ListClients.subject]) {
        const outcome = await nc.request(subject, JSON.stringify({ sub: user.sub }), { timeout: 10_000 }).then(
          () => 'answered',
          (error: unknown) => String((error as Error).message),
        );
        expect([identity, subject, outcome]).toEqual([identity, subject, expect.stringContaining(`Permissions Violation for Publish to "${subject}"`)]);
      }
    }
    expect(jsonOf(await idp(['user', 'show', user.sub, '--json']))).toMatchObject({ status: 'active' });
  }, 120_000);
});

/** A login right after a change waits for the watermark's second to pass (second precision). */
async function takesEffectLogin(user: { username: string; password: string }) {
  let tokens: Awaited<ReturnType<typeof passwordGrant>> | undefined;
  await takesEffect(
    async () => {
      tokens = await passwordGrant(topology.issuer, app, user.username, user.password).catch(() => undefined);
      return tokens !== undefined && (await introspectionActive(topology.issuer, app, tokens.access_token));
    },
    'a login after enable and set-password',
    10_000,
  );
  return tokens!;
}
