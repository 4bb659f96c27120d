import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestContext } from '../../contracts/events/metadata.js';
import type { ClientView } from '../../contracts/messages/client-registry.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { ClientManagementApp } from '../../services/client-registry/app/client-management.app.js';
import { ClientRegistryApp } from '../../services/client-registry/app/client-registry.app.js';
import { EXIT } from '../../services/cli/exit-codes.js';
import { grantTokens } from '../../services/token-issuer/app/grants/index.js';
import { issueForSession } from '../../services/token-issuer/app/issue-authorization.js';
import { revokeToken } from '../../services/token-issuer/app/revoke.js';
import type { TokenIssuerDeps } from '../../services/token-issuer/app/token-issuer.deps.js';
import { DEFAULT_KEY_ACTIVATION_DELAY_SECONDS, keyringPolicyFrom } from '../../services/token-issuer/adapters/token-issuer-env.js';
import { Keyring } from '../../services/token-issuer/app/keyring.js';
import { TOKEN_LIFETIMES, TokenMinter } from '../../services/token-issuer/app/token-minter.js';
import { runIdpInProcess } from '../support/cli.js';
import { tokenIssuerOver } from '../support/token-issuer-under-test.js';

/**
 * `idp as-of` and `idp audit` with a controlled clock (issue 11): the log is written by the real
 * command handlers (client-registry, token-issuer) with their clocks pinned, then read by the
 * commands in this process against the in-memory store.
 *
 * - Client A's access token: issued 14:00, revoked by A at 14:05 (RFC 7009), expiring 15:00.
 * - Client B: a client credentials token (14:00) and a code grant (14:01) refreshed at 14:02;
 *   the administrator revokes every token of B at 14:03 (`client.tokens_revoked`); a token B gets
 *   at 14:04 is not covered.
 * - Client C: a client credentials token (14:00), C deleted at 14:03 (`client.deleted`).
 */
const at = (hhmm: string) => new Date(`2026-11-30T${hhmm}:00.000Z`);
const iso = (hhmm: string) => at(hhmm).toISOString();

interface AsOfRow {
  kind: string;
  generation?: number;
  grantId: string;
  clientId: string;
  sub: string | null;
  issuedAt: string;
  expiresAt: string;
  valid: boolean;
  invalidBecause: Array<{ kind: string; at: string; actor?: string; reason?: string; type?: string }>;
}
interface Row {
  time: string;
  type: string;
  actor: string;
  correlationId: string;
  summary: string;
  grantId?: string;
}

const jtiOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string }).jti;

let store: InMemoryEventStore;
let now: Date;
let issuer: TokenIssuerDeps;
const admin: RequestContext = { tenant: 'default', correlationId: 'audit-admin-0001', causationId: null, actor: { kind: 'admin', id: 'alice' } };
const asClient = (clientId: string): RequestContext => ({ tenant: 'default', correlationId: randomUUID(), causationId: null, actor: { kind: 'client', id: clientId } });

let a: ClientView;
let b: ClientView;
let c: ClientView;
let tokenA: string;
let grantB: string;
let userB: string;
let tokenBLate: string;

const idp = (argv: string[]) => runIdpInProcess(argv, { store, now: () => now });
const asOf = async (time: string, ...question: string[]) => {
  const run = await idp(['as-of', time, ...question, '--json']);
  expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
  return JSON.parse(run.stdout) as AsOfRow[];
};

beforeAll(async () => {
  store = new InMemoryEventStore();
  now = at('13:50');
  const projections = new InMemoryProjectionStore();
  const registry = new ClientRegistryApp({ store, projections, clock: () => now });
  const management = new ClientManagementApp({ store, projections, clock: () => now });
  issuer = tokenIssuerOver(store, { clock: () => now });
  const machine = { grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic', scope: 'orders:read' };
  const withToken = { authorizedBy: 'initial_access_token' } as const;
  a = (await registry.register(admin, { ...machine, client_name: 'A' }, withToken)).client;
  b = (
    await registry.register(admin, {
      client_name: 'B',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      redirect_uris: ['https://rp.example.test/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid offline_access orders:read',
    }, withToken)
  ).client;
  const registeredC = await registry.register(admin, { ...machine, client_name: 'C' }, withToken);
  c = registeredC.client;

  now = at('14:00');
  tokenA = (await grantTokens(issuer, asClient(a.clientId), a, { grantType: 'client_credentials', resources: [] })).access_token;
  await grantTokens(issuer, asClient(b.clientId), b, { grantType: 'client_credentials', resources: [] });
  await grantTokens(issuer, asClient(c.clientId), c, { grantType: 'client_credentials', resources: [] });

  now = at('14:01');
  grantB = randomUUID();
  userB = randomUUID();
  const ctxB = asClient(b.clientId);
  const { code } = await issueForSession(
    issuer,
    ctxB,
    { ctx: ctxB, grantId: grantB, responseType: 'code', clientId: b.clientId, redirectUri: b.redirectUris[0]!, scope: 'openid offline_access' },
    { sessionId: randomUUID(), sub: userB, authTime: Math.floor(now.getTime() / 1000), acr: '0', amr: ['pwd'] },
  );
  const redeemed = await grantTokens(issuer, ctxB, b, { grantType: 'authorization_code', code: code!, redirectUri: b.redirectUris[0]! });

  now = at('14:02');
  await grantTokens(issuer, ctxB, b, { grantType: 'refresh_token', refreshToken: redeemed.refresh_token!, resources: [] });

  now = at('14:03');
  await management.revokeTokens(admin, b.clientId);
  await management.delete(admin, c.clientId, registeredC.registrationAccessToken);

  now = at('14:04');
  tokenBLate = (await grantTokens(issuer, asClient(b.clientId), b, { grantType: 'client_credentials', resources: [] })).access_token;

  now = at('14:05');
  await revokeToken(issuer, asClient(a.clientId), a, tokenA);
  now = at('18:00');
});

describe('idp as-of, controlled clock', () => {
  it('a token issued at 14:00, revoked at 14:05, expiring at 15:00: valid as of 14:02, not as of 14:06', async () => {
    const before = await asOf(iso('14:02'), '--client', a.clientId);
    expect(before).toEqual([
      expect.objectContaining({ kind: 'access', clientId: a.clientId, sub: null, issuedAt: iso('14:00'), expiresAt: iso('15:00'), valid: true, invalidBecause: [] }),
    ]);
    const after = await asOf(iso('14:06'), '--client', a.clientId);
    expect(after).toEqual([expect.objectContaining({ valid: false, invalidBecause: [expect.objectContaining({ kind: 'revoked', at: iso('14:05'), actor: `client:${a.clientId}`, reason: 'revocation_request' })] })]);
    // Past 15:00 it has both causes, the earliest first.
    const later = await asOf(iso('15:30'), '--client', a.clientId);
    expect(later[0]!.invalidBecause.map((cause) => cause.kind)).toEqual(['revoked', 'expired']);
  });

  it('--token takes the jti (the log has only its hash) and answers for that token alone', async () => {
    const jti = jtiOf(tokenA);
    expect((await asOf(iso('14:02'), '--token', jti)).map((row) => row.valid)).toEqual([true]);
    expect((await asOf(iso('14:06'), '--token', jti)).map((row) => row.valid)).toEqual([false]);
    // Before it was issued, it is not listed at all.
    expect(await asOf(iso('13:59'), '--token', jti)).toEqual([]);
    const table = await idp(['as-of', iso('14:06'), '--token', jti]);
    expect(table.stdout).toMatch(/^TOKEN\s+GRANT\s+CLIENT/);
    expect(table.stdout).toContain(`revoked at ${iso('14:05')} by client:${a.clientId} (revocation_request)`);
    expect(table.stdout).not.toContain(jti.split('.')[1]);
  });

  it('client B disabled at 14:03 (client.tokens_revoked): all its tokens invalid from then on, later ones not', async () => {
    const before = await asOf(iso('14:02'), '--client', b.clientId);
    // 14:00 client credentials; 14:01 code grant: access + refresh#0; 14:02 refresh: refresh#0 rotated (ended then), access + refresh#1.
    expect(before.map((row) => `${row.kind}${row.generation ?? ''}:${row.valid}`)).toEqual([
      'access:true',
      'access:true',
      'refresh0:false',
      'access:true',
      'refresh1:true',
    ]);
    expect((await asOf('2026-11-30T14:01:30.000Z', '--client', b.clientId)).map((row) => row.valid)).toEqual([true, true, true]);
    const afterWatermark = await asOf(`2026-11-30T14:03:30.000Z`, '--client', b.clientId);
    expect(afterWatermark.every((row) => !row.valid)).toBe(true);
    for (const row of afterWatermark) {
      expect(row.invalidBecause).toContainEqual(expect.objectContaining({ kind: 'watermark', type: 'client.tokens_revoked', at: iso('14:03'), actor: 'admin:alice' }));
    }
    // The rotated refresh token was already ended by its rotation at 14:02.
    expect(afterWatermark.find((row) => row.generation === 0)!.invalidBecause[0]).toMatchObject({ kind: 'rotated', at: iso('14:02') });
    const withLate = await asOf(iso('14:05'), '--client', b.clientId);
    expect(withLate.filter((row) => row.valid).map((row) => row.issuedAt)).toEqual([iso('14:04')]);
    expect((await asOf(iso('14:05'), '--token', jtiOf(tokenBLate)))[0]!.valid).toBe(true);
  });

  it('client C deleted at 14:03 (client.deleted): its token invalid from then on', async () => {
    expect((await asOf(iso('14:02'), '--client', c.clientId)).map((row) => row.valid)).toEqual([true]);
    const after = await asOf(iso('14:03'), '--client', c.clientId);
    expect(after).toEqual([expect.objectContaining({ valid: false, invalidBecause: [expect.objectContaining({ kind: 'watermark', type: 'client.deleted' })] })]);
  });

  it("--user: the user's tokens through the code grant, ended by the client's watermark", async () => {
    const rows = await asOf(iso('14:02'), '--user', userB);
    expect(rows.map((row) => row.grantId)).toEqual([grantB, grantB, grantB, grantB]);
    expect(rows.every((row) => row.sub === userB)).toBe(true);
    expect((await asOf(iso('14:04'), '--user', userB)).some((row) => row.valid)).toBe(false);
  });

  it('unknown ids exit 3, a malformed time or question exits 2', async () => {
    for (const question of [['--user', 'nobody'], ['--client', 'no-such-client'], ['--token', `${grantB}.${'x'.repeat(43)}`]]) {
      const run = await idp(['as-of', iso('14:02'), ...question]);
      expect(run).toMatchObject({ code: EXIT.notFound, stdout: '' });
    }
    expect((await idp(['as-of', '14:02', '--client', a.clientId])).code).toBe(EXIT.usage);
    expect((await idp(['as-of', 'yesterday', '--client', a.clientId])).stderr).toMatch(/<time> must be an ISO 8601 time/);
    expect((await idp(['as-of', iso('14:02')])).code).toBe(EXIT.usage);
    expect((await idp(['as-of', iso('14:02'), '--user', userB, '--client', a.clientId])).code).toBe(EXIT.usage);
    expect((await idp(['as-of', iso('14:02'), '--token', 'not-a-jti'])).code).toBe(EXIT.usage);
  });
});

describe('idp audit, the same log', () => {
  const audit = async (...argv: string[]) => {
    const run = await idp(['audit', ...argv, '--json']);
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    return JSON.parse(run.stdout) as Row[];
  };

  it("client B's timeline: registration, tokens, refresh, the administrator's watermark, with actor and correlation id", async () => {
    const rows = await audit('client', b.clientId);
    expect(rows.map((row) => row.type)).toEqual([
      'client.registered',
      'client_credentials.granted',
      'authorization_code.issued',
      'authorization_code.redeemed',
      'tokens.issued',
      'refresh_token.rotated',
      'client.tokens_revoked',
      'client_credentials.granted',
    ]);
    const watermark = rows.find((row) => row.type === 'client.tokens_revoked')!;
    expect(watermark).toMatchObject({ time: iso('14:03'), actor: 'admin:alice', correlationId: 'audit-admin-0001' });
    expect(watermark.summary).toContain(`every token of client ${b.clientId} issued until ${iso('14:03')} revoked`);
    expect(rows.find((row) => row.type === 'tokens.issued')!.summary).toMatch(/for "openid offline_access": access token \(expires .*\), refresh token/);
  });

  it("a grant's timeline includes its refresh streams and the watermark that ended it; a user's, the grant", async () => {
    const grant = await audit('grant', grantB);
    expect(grant.map((row) => row.type)).toEqual(['authorization_code.issued', 'authorization_code.redeemed', 'tokens.issued', 'refresh_token.rotated', 'client.tokens_revoked']);
    const user = await audit('user', userB);
    expect(user.map((row) => row.type)).toEqual(['authorization_code.issued', 'authorization_code.redeemed', 'tokens.issued', 'refresh_token.rotated']);
  });

  it("client A's revocation names the client as actor and its reason", async () => {
    const rows = await audit('client', a.clientId);
    expect(rows.at(-1)).toMatchObject({ type: 'grant.revoked', actor: `client:${a.clientId}`, time: iso('14:05') });
    expect(rows.at(-1)!.summary).toMatch(/revoked: revocation_request$/);
  });

  it('--since and --until cut the window; the table has the columns', async () => {
    const rows = await audit('client', b.clientId, '--since', iso('14:01'), '--until', iso('14:03'));
    expect(rows.map((row) => row.time)).toEqual([iso('14:01'), iso('14:01'), iso('14:01'), iso('14:02')]);
    const table = await idp(['audit', 'grant', grantB]);
    expect(table.code).toBe(EXIT.ok);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME\s+POSITION\s+EVENT\s+ACTOR\s+CORRELATION\s+WHAT$/);
  });

  it('unknown ids exit 3 (also with an empty window for a known one: exit 0), a malformed time exits 2', async () => {
    for (const argv of [['user', 'nobody'], ['client', 'no-such-client'], ['grant', randomUUID()]]) {
      expect(await idp(['audit', ...argv])).toMatchObject({ code: EXIT.notFound, stdout: '' });
    }
    expect((await idp(['audit', 'client', b.clientId, '--since', iso('19:00'), '--json'])).stdout.trim()).toBe('[]');
    expect((await idp(['audit', 'client', b.clientId, '--until', 'noon'])).code).toBe(EXIT.usage);
    // A command group without its subcommand shows its help as a usage error.
    const bare = await idp(['audit']);
    expect(bare.code).toBe(EXIT.usage);
    expect(bare.stderr).toMatch(/Usage: idp audit/);
  });

  it('prints no hash: no 64-hex value anywhere in any output', async () => {
    const outputs = [
      await idp(['audit', 'client', a.clientId, '--json']),
      await idp(['audit', 'client', b.clientId, '--json']),
      await idp(['audit', 'client', c.clientId]),
      await idp(['audit', 'grant', grantB, '--json']),
      await idp(['audit', 'user', userB, '--json']),
      await idp(['as-of', iso('14:02'), '--client', b.clientId, '--json']),
      await idp(['as-of', iso('14:02'), '--token', jtiOf(tokenA), '--json']),
    ];
    const hashes = (await store.readAll()).flatMap((event) => JSON.stringify(event.data).match(/[0-9a-f]{64}/g) ?? []);
    expect(hashes.length).toBeGreaterThan(5);
    for (const run of outputs) {
      expect(run.code).toBe(EXIT.ok);
      expect(run.stdout).not.toMatch(/[0-9a-f]{64}/);
    }
  });
});

/**
 * A compromised signing key (`idp keys rotate --compromised`, the token-issuer's keyring handler)
 * ends the access tokens it signed, from its revocation on; the replacement's tokens stay valid.
 * The keyring runs on the same pinned clock.
 */
describe('idp as-of, a revoked signing key (controlled clock)', () => {
  const keyStore = new InMemoryEventStore();
  let clock = at('13:55');
  let machine: ClientView;
  let before: string;
  let after: string;
  let revokedKid: string;
  const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;
  const keyed = (argv: string[]) => runIdpInProcess(argv, { store: keyStore, now: () => clock });

  beforeAll(async () => {
    const registry = new ClientRegistryApp({ store: keyStore, projections: new InMemoryProjectionStore(), clock: () => clock });
    machine = (
      await registry.register(
        admin,
        { client_name: 'D', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic', scope: 'orders:read' },
        { authorizedBy: 'initial_access_token' },
      )
    ).client;
    const base = tokenIssuerOver(keyStore, { clock: () => clock });
    const keyring = new Keyring(keyStore, randomBytes(32), keyringPolicyFrom(DEFAULT_KEY_ACTIVATION_DELAY_SECONDS, TOKEN_LIFETIMES), () => clock);
    const deps: TokenIssuerDeps = { ...base, keyring, minter: new TokenMinter(keyring, base.issuer, TOKEN_LIFETIMES) };
    clock = at('14:00');
    before = (await grantTokens(deps, asClient(machine.clientId), machine, { grantType: 'client_credentials', resources: [] })).access_token;
    revokedKid = kidOf(before);
    clock = at('14:02');
    const revoked = await keyring.revoke(admin, revokedKid);
    expect(revoked).toMatchObject({ found: true, replacement: expect.objectContaining({ alg: 'ES256' }) });
    clock = at('14:03');
    after = (await grantTokens(deps, asClient(machine.clientId), machine, { grantType: 'client_credentials', resources: [] })).access_token;
    expect(kidOf(after)).not.toBe(revokedKid);
  });

  it('tokens signed by the key are valid until its revocation, invalid after; the replacement key signs valid ones', async () => {
    const rows = async (time: string) => {
      const run = await keyed(['as-of', time, '--client', machine.clientId, '--json']);
      expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
      return JSON.parse(run.stdout) as Array<AsOfRow & { signedBy?: string }>;
    };
    expect((await rows(iso('14:01'))).map((row) => [row.signedBy, row.valid])).toEqual([[revokedKid, true]]);
    const later = await rows(iso('14:04'));
    expect(later.map((row) => [row.signedBy, row.valid])).toEqual([
      [revokedKid, false],
      [kidOf(after), true],
    ]);
    expect(later[0]!.invalidBecause).toEqual([expect.objectContaining({ kind: 'signing_key_revoked', at: iso('14:02'), actor: 'admin:alice' })]);
    expect((await keyed(['as-of', iso('14:04'), '--token', jtiOf(before)])).stdout).toContain(`signing key ${revokedKid} revoked at ${iso('14:02')} by admin:alice`);
  });
});
