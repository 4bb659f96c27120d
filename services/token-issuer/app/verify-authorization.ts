import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { SessionView } from '../../../contracts/messages/authn.js';
import type { ClientView } from '../../../contracts/messages/client-registry.js';
import type { RequestOf } from '../../../contracts/messages/define.js';
import type { IssueAuthorization } from '../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../contracts/oauth-error.js';
import { sameLoopbackIgnoringPort } from '../../../contracts/redirect-uris.js';
import { canonicalResponseType, grantTypesFor, issuesCode, issuesIdToken, type ResponseType } from '../../../contracts/response-types.js';
import { registeredClient, resolvedSession } from './peers.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

type Request = Pick<
  RequestOf<typeof IssueAuthorization>,
  'clientId' | 'sessionToken' | 'redirectUri' | 'responseType' | 'scope' | 'codeChallenge'
>;

/**
 * What the token-issuer checks itself before an authorization response is issued, rather than
 * take the gateway's word for it: the user is the one authn says holds the session cookie, and
 * the request fits the client's registration as client-registry has it now (the same rules the
 * gateway applied, RFC 6749 §4.1.1-4.1.2, RFC 7636, RFC 8252 §7.3). The client and the session
 * are asked for at once (one round trip). The context's actor becomes that user.
 *
 * A refusal that concerns the client or its redirect URI is never redirected; the others go to
 * the (checked) redirect URI like the gateway's own.
 */
export async function verifiedAuthorization(
  deps: Pick<TokenIssuerDeps, 'bus' | 'peerTimeoutMs'>,
  given: RequestContext,
  request: Request,
): Promise<{ client: ClientView; session: SessionView; ctx: RequestContext }> {
  const [client, session] = await Promise.all([
    registeredClient(deps, given, request.clientId),
    resolvedSession(deps, given, request.sessionToken),
  ]);
  // Never registered, or deleted: nothing may be issued to it, nor redirected to it.
  if (!client) throw new OAuthError('invalid_request', 'the client is no longer valid', { mayRedirect: false });
  if (!registeredRedirectUri(client, request.redirectUri)) {
    throw new OAuthError('invalid_request', 'redirect_uri is not registered for this client', { mayRedirect: false });
  }
  checkResponseType(client, request.responseType);
  checkScope(client, request.scope, request.responseType);
  checkPkce(client, request.responseType, request.codeChallenge);
  // Unknown, ended, expired, or a secret that does not match: no user is signed in.
  if (!session) throw new OAuthError('login_required', 'the user must log in', { detail: 'issue_authorization: the session token resolves to no session' });
  return { client, session, ctx: { ...given, actor: { kind: 'user', id: session.sub } } };
}

/** Exactly a registered URI; a native client's loopback URI on any port (RFC 8252 §7.3). */
function registeredRedirectUri(client: ClientView, redirectUri: string): boolean {
  if (client.redirectUris.includes(redirectUri)) return true;
  return client.applicationType === 'native' && client.redirectUris.some((registered) => sameLoopbackIgnoringPort(registered, redirectUri));
}

/** Registered by the client, with the grant types it needs (OIDC Registration §2). */
function checkResponseType(client: ClientView, type: ResponseType): void {
  const registered = client.responseTypes.some((r) => canonicalResponseType(r) === type);
  if (!registered || grantTypesFor(type).some((g) => !client.grantTypes.includes(g))) {
    throw new OAuthError('unauthorized_client', `the client may not use response_type ${type}`);
  }
}

/** RFC 6749 §3.3: each scope registered by the client; OIDC Core §3.1.2.1: openid for an ID token. */
function checkScope(client: ClientView, scope: string, type: ResponseType): void {
  const scopes = scope.split(' ').filter(Boolean);
  if (scopes.length === 0) throw new OAuthError('invalid_scope', 'scope is required');
  const allowed = client.scope.split(' ');
  const notAllowed = scopes.find((s) => !allowed.includes(s));
  if (notAllowed !== undefined) throw new OAuthError('invalid_scope', `scope ${notAllowed} is not allowed for this client`);
  if (issuesIdToken(type) && !scopes.includes('openid')) throw new OAuthError('invalid_scope', `response_type ${type} needs the openid scope`);
}

/** RFC 7636, RFC 9700 §2.1.1: a public client's code needs a challenge; a challenge needs a code. */
function checkPkce(client: ClientView, type: ResponseType, codeChallenge: string | undefined): void {
  if (codeChallenge !== undefined && !issuesCode(type)) throw new OAuthError('invalid_request', 'code_challenge without a code in the response type');
  if (codeChallenge === undefined && client.tokenEndpointAuthMethod === 'none' && issuesCode(type)) {
    throw new OAuthError('invalid_request', 'public clients must use PKCE (code_challenge with S256)');
  }
}
