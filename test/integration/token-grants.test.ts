import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EventStore, ReadStreamResult } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { ClientManagementApp } from '../../services/client-registry/app/client-management.app.js';
import { ClientRegistryApp } from '../../services/client-registry/app/client-registry.app.js';
import { verifyAccessToken } from '../../services/token-issuer/app/access-token.js';
import { grantTokens } from '../../services/token-issuer/app/grants/index.js';
import { introspectToken } from '../../services/token-issuer/app/introspect.js';
import { issueForSession } from '../../services/token-issuer/app/issue-authorization.js';
import { revokeToken } from '../../services/token-issuer/app/revoke.js';
import { confidentialClient, redeemedGrant, testCtx, tokenIssuerOver } from '../support/token-issuer-under-test.js';

/**
 * The token endpoint's grants over a real SQLite log: the event budget of client credentials,
 * a refresh whose cost does not grow with its lineage, and the client watermark at the token
 * endpoint (a code or a lineage older than "revoke all tokens of this client" is refused).
 */

/** The store, counting what each stream read returns. */
class CountingStore {
  reads: Array<{ stream: string; events: number }> = [];
  constructor(readonly inner: EventStore) {
    const readStream = inner.readStream.bind(inner);
    inner.readStream = async (name: string): Promise<ReadStreamResult> => {
      const result = await readStream(name);
      this.reads.push({ stream: name, events: result.events.length });
      return result;
    };
  }
}

let dir: string;
let store: EventStore;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token-grants-'));
  store = SqliteEventStore.open(path.join(dir, 'log.db'));
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('client credentials over SQLite', () => {
  it('records one event per grant (DESIGN §4 event budget) and issues no refresh token', async () => {
    const deps = tokenIssuerOver(store);
    const client = confidentialClient({ grantTypes: ['client_credentials'], redirectUris: [], responseTypes: [], scope: 'orders:read' });
    await deps.keyring.forTenant(testCtx()); // the keyring's own first events are not the grant's
    const before = (await store.readAll()).length;
    const tokens = await grantTokens(deps, testCtx(client.clientId), client, { grantType: 'client_credentials', resources: [] });
    const appended = (await store.readAll()).slice(before);
    expect(appended.map((e) => e.type)).toEqual(['client_credentials.granted']);
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeUndefined();
    expect(await verifyAccessToken(deps, testCtx(), tokens.access_token)).toMatchObject({ clientId: client.clientId, sub: client.clientId, scope: 'orders:read' });
  });
});

describe('refresh over SQLite: the cost does not grow with the lineage', () => {
  it('a refresh after 300 rotations reads the same streams and as many events as the second refresh', async () => {
    const counting = new CountingStore(store);
    const deps = tokenIssuerOver(counting.inner);
    const client = confidentialClient();
    let tokens = await redeemedGrant(deps, client);
    const refresh = async () => {
      counting.reads = [];
      tokens = await grantTokens(deps, testCtx(client.clientId), client, { grantType: 'refresh_token', resources: [], refreshToken: tokens.refresh_token! });
      return counting.reads;
    };
    await refresh();
    const early = await refresh();
    for (let i = 0; i < 300; i++) await refresh();
    const late = await refresh();
    expect(late.map((r) => r.events)).toEqual(early.map((r) => r.events));
    expect(late.length).toBe(early.length);
    // Three short streams: the grant's, the epoch that issued the token, the token's own epoch.
    expect(late.reduce((sum, r) => sum + r.events, 0)).toBeLessThanOrEqual(5);
    expect(await verifyAccessToken(deps, testCtx(), tokens.access_token)).toBeDefined();
  }, 120_000);
});

describe('the client watermark at the token endpoint', () => {
  it('after "revoke all tokens of this client", its older refresh tokens and unredeemed codes are invalid_grant', async () => {
    const deps = tokenIssuerOver(store);
    const clock = () => new Date();
    const registry = new ClientRegistryApp({ store, projections: deps.projections, clock });
    const management = new ClientManagementApp({ store, projections: deps.projections, clock });
    const ctx = testCtx();
    const { client } = await registry.register(ctx, {
      redirect_uris: ['https://rp.example.test/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access profile',
    });
    const tokens = await redeemedGrant(deps, client);
    const { code } = await issueForSession(
      deps,
      testCtx(client.clientId),
      {
        ctx: testCtx(client.clientId),
        grantId: crypto.randomUUID(),
        responseType: 'code',
        clientId: client.clientId,
        redirectUri: 'https://rp.example.test/cb',
        scope: 'openid',
      },
      { sessionId: crypto.randomUUID(), sub: crypto.randomUUID(), authTime: Math.floor(Date.now() / 1000), acr: '0', amr: ['pwd'] },
    );

    await management.revokeTokens(ctx, client.clientId);

    await expect(grantTokens(deps, testCtx(client.clientId), client, { grantType: 'refresh_token', resources: [], refreshToken: tokens.refresh_token! })).rejects.toMatchObject({
      code: 'invalid_grant',
    });
    await expect(
      grantTokens(deps, testCtx(client.clientId), client, { grantType: 'authorization_code', code: code!, redirectUri: 'https://rp.example.test/cb' }),
    ).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(await verifyAccessToken(deps, testCtx(), tokens.access_token)).toBeUndefined();
  });
});

describe('audiences and revocations racing a refresh', () => {
  it('a configured resource server introspects the tokens for its audience; nobody else does; an unconfigured resource is invalid_target', async () => {
    const deps = tokenIssuerOver(store);
    const client = confidentialClient({ grantTypes: ['client_credentials'], redirectUris: [], responseTypes: [], scope: 'orders:read' });
    const tokens = await grantTokens(deps, testCtx(client.clientId), client, { grantType: 'client_credentials', resources: ['https://api.example.test/orders'] });
    const resourceServer = confidentialClient({ clientId: 'orders-rs', grantTypes: ['client_credentials'] });
    const stranger = confidentialClient({ grantTypes: ['client_credentials'] });
    expect((await introspectToken(deps, testCtx(), resourceServer, tokens.access_token)).response).toMatchObject({
      active: true,
      aud: 'https://api.example.test/orders',
      client_id: client.clientId,
    });
    expect((await introspectToken(deps, testCtx(), stranger, tokens.access_token)).response).toEqual({ active: false });
    await expect(
      grantTokens(deps, testCtx(client.clientId), client, { grantType: 'client_credentials', resources: ['https://payments.example.test/'] }),
    ).rejects.toMatchObject({ code: 'invalid_target' });
  });

  it('a revocation committed while a refresh decides ends that refresh too: invalid_grant, no tokens handed out', async () => {
    const deps = tokenIssuerOver(store);
    const client = confidentialClient();
    const tokens = await redeemedGrant(deps, client);
    const append = store.append.bind(store);
    let injected = false;
    store.append = async (streamName, events, expected) => {
      if (!injected && streamName.startsWith('refresh_token-')) {
        injected = true;
        // The client revokes its grant just before the rotation commits.
        await revokeToken(deps, testCtx(client.clientId), client, tokens.access_token);
      }
      return append(streamName, events, expected);
    };
    await expect(
      grantTokens(deps, testCtx(client.clientId), client, { grantType: 'refresh_token', resources: [], refreshToken: tokens.refresh_token! }),
    ).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(injected).toBe(true);
  });

  it('a refresh may not name a resource its grant was not for (RFC 8707 §2.2)', async () => {
    const deps = tokenIssuerOver(store);
    const client = confidentialClient({ scope: 'profile' });
    const tokens = await redeemedGrant(deps, client, 'profile');
    const refresh = (resources: string[]) =>
      grantTokens(deps, testCtx(client.clientId), client, { grantType: 'refresh_token', resources, refreshToken: tokens.refresh_token! });
    await expect(refresh(['https://api.example.test/orders'])).rejects.toMatchObject({ code: 'invalid_target' });
    // A refused resource does not use the token up.
    expect((await refresh([])).refresh_token).toEqual(expect.any(String));
  });
});
