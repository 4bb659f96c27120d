import type { z } from 'zod';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { GrantTokens, IntrospectToken, RevokeToken, TokenResponse } from '../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../contracts/oauth-error.js';
import { grantTokens } from './grants/index.js';
import { introspectToken } from './introspect.js';
import { authenticatedClient } from './peers.js';
import { revokeToken } from './revoke.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * The back-channel requests as they arrive on the bus: each first has its client authenticated
 * by client-registry (peers.ts), then runs for that client. The gateway relays what the client
 * presented; it vouches for nothing.
 */

type GrantTokensRequest = z.infer<typeof GrantTokens.request>;

/**
 * The token endpoint (RFC 6749 §3.2, §5.2): the client first (`invalid_client`), then the grant
 * type (missing, unsupported), then whether the client registered it (`unauthorized_client`),
 * then the grant's own parameters and the grant itself.
 */
export async function answerTokenRequest(deps: TokenIssuerDeps, given: RequestContext, request: GrantTokensRequest): Promise<TokenResponse> {
  const { client, ctx } = await authenticatedClient(deps, given, request.client);
  const grantType = request.grant?.grantType ?? request.unreadable?.grantType;
  if (grantType === undefined) {
    if (request.unreadable) throw OAuthError.fromBody(request.unreadable.error);
    throw new OAuthError('invalid_request', 'grant_type is required');
  }
  if (!client.grantTypes.includes(grantType)) {
    throw new OAuthError('unauthorized_client', `the client may not use grant_type ${grantType}`);
  }
  if (request.unreadable) throw OAuthError.fromBody(request.unreadable.error);
  if (!request.grant) throw new OAuthError('invalid_request', 'malformed request');
  return grantTokens(deps, ctx, client, request.grant, request.source ?? null);
}

/** Token introspection (RFC 7662 §2.1): a client that authenticates with a secret, then the token. */
export async function answerIntrospection(deps: TokenIssuerDeps, given: RequestContext, request: z.infer<typeof IntrospectToken.request>) {
  const { client, ctx } = await authenticatedClient(deps, given, request.caller, { publicClients: false });
  if (!request.token) throw new OAuthError('invalid_request', 'token is required');
  return introspectToken(deps, ctx, client, request.token, request.format, request.tokenTypeHint);
}

/** Token revocation (RFC 7009 §2.1): the client as at the token endpoint (a public one by its client_id), then the token. */
export async function answerRevocation(deps: TokenIssuerDeps, given: RequestContext, request: z.infer<typeof RevokeToken.request>) {
  const { client, ctx } = await authenticatedClient(deps, given, request.caller);
  if (!request.token) throw new OAuthError('invalid_request', 'token is required');
  return revokeToken(deps, ctx, client, request.token);
}
