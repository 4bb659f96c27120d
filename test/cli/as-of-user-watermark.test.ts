import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../contracts/events/metadata.js';
import type { ClientView } from '../../contracts/messages/client-registry.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { ClientRegistryApp } from '../../services/client-registry/app/client-registry.app.js';
import { EXIT } from '../../services/cli/exit-codes.js';
import { grantTokens } from '../../services/token-issuer/app/grants/index.js';
import { issueForSession } from '../../services/token-issuer/app/issue-authorization.js';
import type { TokenIssuerDeps } from '../../services/token-issuer/app/token-issuer.deps.js';
import { runIdpInProcess } from '../support/cli.js';
import { tokenIssuerOver } from '../support/token-issuer-under-test.js';
import { authnOver } from '../support/authn-under-test.js';

/**
 * `idp as-of` and the user watermark, with a controlled clock: the log is written by the real
 * authn handlers (registration, `idp user disable` / `enable` / `forget` as UserAdmin decides them)
 * and the real token-issuer, each on a pinned clock, then read by the command alone.
 *
 * - Frank: a code grant at 14:00 (access token to 15:00); disabled by the administrator at
 *   14:03; enabled at 14:04; a new grant at 14:05.
 * - Grete: a code grant at 14:00; forgotten at 14:03.
 */
const at = (hhmm: string) => new Date(`2026-11-30T${hhmm}:00.000Z`);
const iso = (hhmm: string) => at(hhmm).toISOString();

interface AsOfRow {
  kind: string;
  grantId: string;
  sub: string | null;
  issuedAt: string;
  valid: boolean;
  invalidBecause: Array<{ kind: string; at: string; actor?: string; type?: string }>;
}

let store: InMemoryEventStore;
let now: Date;
let frank: string;
let grete: string;
let firstGrant: string;
let laterGrant: string;
const admin: RequestContext = { tenant: 'default', correlationId: 'user-watermark-admin', causationId: null, actor: { kind: 'admin', id: 'alice' } };

const asOf = async (time: string, sub: string) => {
  const run = await runIdpInProcess(['as-of', time, '--user', sub, '--json'], { store, now: () => now });
  expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
  return JSON.parse(run.stdout) as AsOfRow[];
};

async function codeGrant(issuer: TokenIssuerDeps, client: ClientView, sub: string): Promise<string> {
  const grantId = randomUUID();
  const ctx: RequestContext = { tenant: 'default', correlationId: randomUUID(), causationId: null, actor: { kind: 'client', id: client.clientId } };
  const { code } = await issueForSession(
    issuer,
    ctx,
    { ctx, grantId, responseType: 'code', clientId: client.clientId, redirectUri: client.redirectUris[0]!, scope: 'openid offline_access' },
    { sessionId: randomUUID(), sub, authTime: Math.floor(now.getTime() / 1000), acr: '0', amr: ['pwd'] },
  );
  await grantTokens(issuer, ctx, client, { grantType: 'authorization_code', code: code!, redirectUri: client.redirectUris[0]! });
  return grantId;
}

beforeAll(async () => {
  store = new InMemoryEventStore();
  now = at('13:50');
  const authn = authnOver(store, { clock: () => now });
  const registry = new ClientRegistryApp({ store, projections: new InMemoryProjectionStore(), clock: () => now });
  const issuer = tokenIssuerOver(store, { clock: () => now });
  ({ sub: frank } = await authn.registerUser(admin, { username: 'frank', password: 'correct horse battery' }));
  ({ sub: grete } = await authn.registerUser(admin, { username: 'grete', password: 'correct horse battery' }));
  const client = (
    await registry.register(
      admin,
      {
        client_name: 'web',
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['https://rp.example.test/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid offline_access',
      },
      { authorizedBy: 'initial_access_token' },
    )
  ).client;

  now = at('14:00');
  firstGrant = await codeGrant(issuer, client, frank);
  await codeGrant(issuer, client, grete);
  now = at('14:03');
  expect(await authn.users.disable(admin, frank, 'left the company')).toMatchObject({ found: true, changed: true });
  expect(await authn.users.forget(admin, grete)).toMatchObject({ found: true, changed: true });
  now = at('14:04');
  expect(await authn.users.enable(admin, frank)).toMatchObject({ found: true, changed: true });
  now = at('14:05');
  laterGrant = await codeGrant(issuer, client, frank);
  now = at('18:00');
});

describe('idp as-of, the user watermark (controlled clock)', () => {
  it("a user disabled at 14:03: every token of theirs issued before is invalid from then on, also after they are enabled", async () => {
    const before = await asOf(iso('14:02'), frank);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((row) => row.grantId === firstGrant && row.valid)).toBe(true);

    const disabled = await asOf('2026-11-30T14:03:30.000Z', frank);
    expect(disabled.every((row) => !row.valid)).toBe(true);
    for (const row of disabled) {
      expect(row.invalidBecause).toContainEqual(expect.objectContaining({ kind: 'watermark', type: 'user.disabled', at: iso('14:03'), actor: 'admin:alice' }));
    }

    // Enabled at 14:04: the old tokens stay dead; the grant of 14:05 is valid.
    const later = await asOf(iso('14:06'), frank);
    expect(later.filter((row) => row.grantId === firstGrant).every((row) => !row.valid)).toBe(true);
    const fresh = later.filter((row) => row.grantId === laterGrant);
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.every((row) => row.valid)).toBe(true);
  });

  it('a user forgotten at 14:03: every token invalid from then on', async () => {
    expect((await asOf(iso('14:02'), grete)).every((row) => row.valid)).toBe(true);
    const after = await asOf(iso('14:04'), grete);
    expect(after.length).toBeGreaterThan(0);
    for (const row of after) {
      expect(row.valid).toBe(false);
      expect(row.invalidBecause).toContainEqual(expect.objectContaining({ kind: 'watermark', type: 'user.forgotten', at: iso('14:03') }));
    }
  });
});
