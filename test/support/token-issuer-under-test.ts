import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestContext } from '../../contracts/events/metadata.js';
import type { ClientView } from '../../contracts/messages/client-registry.js';
import { InProcessBroker, InProcessBus } from '../../infra/bus/inproc.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { grantTokens } from '../../services/token-issuer/app/grants/index.js';
import { issueForSession } from '../../services/token-issuer/app/issue-authorization.js';
import { Keyring } from '../../services/token-issuer/app/keyring.js';
import { DEFAULT_KEY_ACTIVATION_DELAY_SECONDS, keyringPolicyFrom } from '../../services/token-issuer/adapters/token-issuer-env.js';
import { ResourceServers } from '../../services/token-issuer/app/resource-servers.js';
import type { TokenIssuerDeps } from '../../services/token-issuer/app/token-issuer.deps.js';
import { TOKEN_LIFETIMES, TokenMinter } from '../../services/token-issuer/app/token-minter.js';

export const ISSUER = 'https://idp.example.test';

/**
 * The token-issuer's app layer over a real event store, as its module wires it (the projections
 * in memory, always current): for tests of grants against every store adapter.
 */
export function tokenIssuerOver(store: EventStore, options: { clock?: () => Date } = {}): TokenIssuerDeps {
  const keyring = new Keyring(store, randomBytes(32), keyringPolicyFrom(DEFAULT_KEY_ACTIVATION_DELAY_SECONDS, TOKEN_LIFETIMES));
  return {
    store,
    projections: new InMemoryProjectionStore(),
    projectionFreshness: { current: () => true },
    keyring,
    minter: new TokenMinter(keyring, ISSUER, TOKEN_LIFETIMES),
    issuer: ISSUER,
    refreshTokenKey: randomBytes(32),
    resourceServers: new ResourceServers([{ uri: 'https://api.example.test/orders', clientId: 'orders-rs' }]),
    bus: new InProcessBus(new InProcessBroker()),
    clock: options.clock ?? (() => new Date()),
  };
}

export const testCtx = (clientId = 'test'): RequestContext => ({
  tenant: 'default',
  correlationId: randomUUID(),
  causationId: null,
  actor: { kind: 'client', id: clientId },
});

export function confidentialClient(overrides: Partial<ClientView> = {}): ClientView {
  return {
    clientId: `client-${randomBytes(6).toString('hex')}`,
    applicationType: 'web',
    redirectUris: ['https://rp.example.test/cb'],
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    tokenEndpointAuthMethod: 'client_secret_basic',
    scope: 'openid offline_access profile',
    idTokenSignedResponseAlg: 'RS256',
    refreshTokenReuseGraceSeconds: 0,
    postLogoutRedirectUris: [],
    backchannelLogoutUri: null,
    backchannelLogoutSessionRequired: false,
    clientIdIssuedAt: 0,
    ...overrides,
  };
}

/** A code flow's back half: a code issued for a fresh user, redeemed; the tokens it gave. */
export async function redeemedGrant(deps: TokenIssuerDeps, client: ClientView, scope = 'openid offline_access profile') {
  const ctx = testCtx(client.clientId);
  const { code } = await issueForSession(
    deps,
    ctx,
    { ctx, grantId: randomUUID(), responseType: 'code', clientId: client.clientId, redirectUri: client.redirectUris[0]!, scope },
    { sessionId: randomUUID(), sub: randomUUID(), authTime: Math.floor(Date.now() / 1000), acr: '0', amr: ['pwd'] },
  );
  return grantTokens(deps, ctx, client, { grantType: 'authorization_code', code: code!, redirectUri: client.redirectUris[0]! });
}
