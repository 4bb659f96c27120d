import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { ClientRegistryApp } from '../../services/client-registry/app/client-registry.app.js';
import { grantTokens } from '../../services/token-issuer/app/grants/index.js';
import { verifyIdTokenHint } from '../../services/token-issuer/app/id-token-hint.js';
import { issueForSession } from '../../services/token-issuer/app/issue-authorization.js';
import type { TokenIssuerDeps } from '../../services/token-issuer/app/token-issuer.deps.js';
import { tokenIssuerOver, testCtx } from '../support/token-issuer-under-test.js';

/**
 * `id_token_signed_response_alg` (OIDC Registration §2): RS256 by default, ES256 for a client that
 * registers it (issue 12), on every path that signs an ID token: the code redemption, the
 * refresh, and the authorization endpoint's hybrid response; and an ES256 ID token is a valid
 * `id_token_hint`, an ES256 access token is not.
 */
const admin: RequestContext = { tenant: 'default', correlationId: 'alg-admin', causationId: null, actor: { kind: 'admin', id: 'alice' } };
let store: InMemoryEventStore;
let registry: ClientRegistryApp;
let issuer: TokenIssuerDeps;

const register = (metadata: Record<string, unknown>) =>
  registry.register(
    admin,
    {
      redirect_uris: ['https://rp.example.test/cb'],
      grant_types: ['authorization_code', 'refresh_token', 'implicit'],
      response_types: ['code', 'code id_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid offline_access',
      ...metadata,
    },
    { authorizedBy: 'initial_access_token' },
  );

async function codeGrant(client: Awaited<ReturnType<typeof register>>['client'], responseType: 'code' | 'code id_token' = 'code') {
  const ctx = testCtx(client.clientId);
  const authorization = await issueForSession(
    issuer,
    ctx,
    { ctx, grantId: randomUUID(), responseType, clientId: client.clientId, redirectUri: client.redirectUris[0]!, scope: 'openid offline_access', nonce: 'n-1' },
    { sessionId: randomUUID(), sub: 'user-1', authTime: Math.floor(Date.now() / 1000), acr: '0', amr: ['pwd'] },
    client.idTokenSignedResponseAlg,
  );
  const tokens = await grantTokens(issuer, ctx, client, { grantType: 'authorization_code', code: authorization.code!, redirectUri: client.redirectUris[0]! });
  return { authorization, tokens, ctx };
}

beforeEach(() => {
  store = new InMemoryEventStore();
  registry = new ClientRegistryApp({ store, projections: new InMemoryProjectionStore() });
  issuer = tokenIssuerOver(store);
});

describe('ID token signing algorithm', () => {
  it('RS256 unless the client registered ES256; anything else is refused at registration', async () => {
    expect((await register({})).client.idTokenSignedResponseAlg).toBe('RS256');
    expect((await register({ id_token_signed_response_alg: 'ES256' })).client.idTokenSignedResponseAlg).toBe('ES256');
    for (const alg of ['HS256', 'none', 'PS256', 7]) {
      await expect(register({ id_token_signed_response_alg: alg })).rejects.toMatchObject({ code: 'invalid_client_metadata' });
    }
  });

  it.each(['RS256', 'ES256'] as const)('%s: the code redemption, the refresh and the hybrid response sign with it, verifiable with the JWKS', async (alg) => {
    const { client } = await register({ id_token_signed_response_alg: alg });
    const jwks = createLocalJWKSet({ keys: await issuer.keyring.jwks(testCtx()) });
    const { authorization, tokens, ctx } = await codeGrant(client, 'code id_token');
    const refreshed = await grantTokens(issuer, ctx, client, { grantType: 'refresh_token', refreshToken: tokens.refresh_token!, resources: [] });
    for (const idToken of [authorization.id_token!, tokens.id_token!, refreshed.id_token!]) {
      expect(decodeProtectedHeader(idToken)).toMatchObject({ alg, typ: 'JWT' });
      const { payload } = await jwtVerify(idToken, jwks, { algorithms: [alg], audience: client.clientId, issuer: issuer.issuer });
      expect(payload).toMatchObject({ sub: 'user-1', azp: client.clientId });
    }
    // Access tokens stay ES256 whatever the client's ID token algorithm.
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
  });

  it('an ES256 ID token is a valid id_token_hint; an ES256 access token, or an ID token with a forged signature, is not', async () => {
    const { client } = await register({ id_token_signed_response_alg: 'ES256' });
    const { tokens } = await codeGrant(client);
    expect(await verifyIdTokenHint(issuer, testCtx(), tokens.id_token!)).toMatchObject({ valid: true, sub: 'user-1', clientId: client.clientId });
    expect(await verifyIdTokenHint(issuer, testCtx(), tokens.access_token)).toEqual({ valid: false });
    const [header, payload, signature] = tokens.id_token!.split('.');
    const forged = `${header}.${payload}.${signature!.slice(0, -4)}${signature!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect(await verifyIdTokenHint(issuer, testCtx(), forged)).toEqual({ valid: false });
  });
});
