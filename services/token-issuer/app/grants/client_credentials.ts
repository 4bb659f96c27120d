import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { RequestContext } from '../../../../contracts/events/metadata.js';
import type { ClientCredentialsGrant } from '../../../../contracts/grants/index.js';
import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import type { TokenResponse } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { decideOnGrant } from '../grant-stream.js';
import type { TokenIssuerDeps } from '../token-issuer.deps.js';
import { grantedScope } from './scopes.js';
import { planAccessToken, signTokenResponse } from './sign-tokens.js';

/**
 * The client credentials grant (RFC 6749 §4.4): an access token for the client itself, its `sub`
 * the client id (RFC 9068 §2.2) and its audience the requested resources (RFC 8707). No refresh
 * token (§4.4.3) and no ID token (no user). One event on a new grant stream.
 */
export async function grantClientCredentials(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  client: ClientView,
  request: z.infer<typeof ClientCredentialsGrant.request>,
): Promise<TokenResponse> {
  // RFC 6749 §4.4.2: only a confidential client; the registry refuses to register anything else.
  if (client.tokenEndpointAuthMethod === 'none') {
    throw new OAuthError('unauthorized_client', 'a public client cannot use client_credentials');
  }
  const scope = grantedScope(client, request.scope, { user: false });
  const grantId = randomUUID();
  const now = deps.clock();
  const planned = planAccessToken(deps, grantId, now);
  const resources = deps.resourceServers.check(request.resources);
  const audience = resources.length > 0 ? resources : [deps.issuer];
  const subject = { clientId: client.clientId, sub: client.clientId, scope, audience };
  const response = await signTokenResponse(deps, ctx, { subject, scope, planned });
  const { decision } = await decideOnGrant(deps, ctx, grantId, {
    type: 'grant_client_credentials',
    grantId,
    clientId: client.clientId,
    scope,
    audience,
    tokens: { accessTokenIdHash: planned.idHash, accessTokenExpiresAt: planned.expiresAt },
  }, { newStream: true });
  if (decision.rejection) throw decision.rejection;
  return response;
}
