import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { grantTokens } from '../../services/token-issuer/app/grants/index.js';
import { introspectToken } from '../../services/token-issuer/app/introspect.js';
import { revokeToken } from '../../services/token-issuer/app/revoke.js';
import type { TokenIssuerDeps } from '../../services/token-issuer/app/token-issuer.deps.js';
import { VerifiedTokenCache } from '../../services/token-issuer/app/verified-token-cache.js';
import { confidentialClient, testCtx, tokenIssuerOver } from '../support/token-issuer-under-test.js';

/**
 * Introspection with the verified-signature cache (issue 12): a token's signature is verified
 * once, but everything that can end a token after issuance still ends it at the next
 * introspection: its key revoked as compromised, its expiry, its grant revoked. A token changed
 * in any byte is verified afresh (and fails).
 */
let now: Date;
let issuer: TokenIssuerDeps & { verifiedTokens: VerifiedTokenCache };
const machine = confidentialClient({ grantTypes: ['client_credentials'], responseTypes: [], redirectUris: [], scope: 'orders:read' });
const ctx = testCtx(machine.clientId);
const introspect = async (token: string) => (await introspectToken(issuer, ctx, machine, token)).response;
const newToken = async () => (await grantTokens(issuer, ctx, machine, { grantType: 'client_credentials', resources: [] })).access_token;

beforeEach(() => {
  now = new Date();
  issuer = { ...tokenIssuerOver(new InMemoryEventStore(), { clock: () => now }), verifiedTokens: new VerifiedTokenCache(3) };
});

describe('introspection over the verified-token cache', () => {
  it('verifies a token once: the second introspection answers from the cache, the same answer', async () => {
    const token = await newToken();
    const first = await introspect(token);
    expect(first).toMatchObject({ active: true, client_id: machine.clientId });
    expect(issuer.verifiedTokens.size).toBe(1);
    expect(await introspect(token)).toEqual(first);
    expect(issuer.verifiedTokens.size).toBe(1);
  });

  it('a key revoked as compromised ends its cached tokens at the next introspection', async () => {
    const token = await newToken();
    expect((await introspect(token)).active).toBe(true);
    const kid = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')).kid as string;
    expect(await issuer.keyring.revoke(ctx, kid)).toMatchObject({ found: true });
    expect(await introspect(token)).toEqual({ active: false });
  });

  it('a cached token expires by the clock, and its grant revoked ends it', async () => {
    const expiring = await newToken();
    const revoked = await newToken();
    expect((await introspect(expiring)).active).toBe(true);
    expect((await introspect(revoked)).active).toBe(true);
    await revokeToken(issuer, ctx, machine, revoked);
    expect(await introspect(revoked)).toEqual({ active: false });
    now = new Date(now.getTime() + 3601_000);
    expect(await introspect(expiring)).toEqual({ active: false });
  });

  it('a token changed in its signature or its payload is not taken from the cache', async () => {
    const token = await newToken();
    expect((await introspect(token)).active).toBe(true);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'orders:read orders:write' })).toString('base64url');
    expect(await introspect(`${header}.${widened}.${signature}`)).toEqual({ active: false });
    expect(await introspect(`${header}.${payload}.${signature!.slice(0, -2)}AA`)).toEqual({ active: false });
  });

  it('stays within its capacity: the oldest entries go', async () => {
    const tokens = [await newToken(), await newToken(), await newToken(), await newToken()];
    for (const token of tokens) expect((await introspect(token)).active).toBe(true);
    expect(issuer.verifiedTokens.size).toBe(3);
    // The evicted one still introspects (verified again).
    expect((await introspect(tokens[0]!)).active).toBe(true);
  });
});
