import type { RequestContext } from '../../../contracts/events/metadata.js';
import { ResolveSession, type SessionView } from '../../../contracts/messages/authn.js';
import { AuthenticateClient, GetClient, type ClientView, type PresentedClientAuthentication } from '../../../contracts/messages/client-registry.js';
import { OAuthError } from '../../../contracts/oauth-error.js';
import { call } from '../../../infra/bus/typed.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * Deadline of the token-issuer's own questions to client-registry and authn unless its deps say
 * otherwise (the embedded server passes IDP_REQUEST_TIMEOUT_MS): a peer that is down or slow
 * becomes 503 `temporarily_unavailable`, as it was when the gateway asked it.
 */
export const PEER_TIMEOUT_MS = 5000;

type PeerDeps = Pick<TokenIssuerDeps, 'bus' | 'peerTimeoutMs'>;
const timeout = (deps: PeerDeps) => ({ timeoutMs: deps.peerTimeoutMs ?? PEER_TIMEOUT_MS });

/**
 * Who the client of a back-channel request is, by client-registry's check of what the request
 * presented (RFC 6749 §2.3.1), never by the caller's word: 401 `invalid_client` otherwise. An
 * endpoint without public clients (introspection, RFC 7662 §2.1) refuses `none` first. The
 * context's actor becomes the authenticated client, whatever the message said.
 */
export async function authenticatedClient(
  deps: PeerDeps,
  ctx: RequestContext,
  presented: PresentedClientAuthentication,
  endpoint: { publicClients: boolean } = { publicClients: true },
): Promise<{ client: ClientView; ctx: RequestContext }> {
  if (!endpoint.publicClients && presented.method === 'none') {
    throw new OAuthError('invalid_client', 'this endpoint requires client authentication', { mayRedirect: false });
  }
  const { client } = await call(deps.bus, AuthenticateClient, { ctx, ...presented }, timeout(deps));
  return { client, ctx: { ...ctx, actor: { kind: 'client', id: client.clientId } } };
}

/** The client as registered now; null when there is none (never registered, or deleted). */
export async function registeredClient(deps: PeerDeps, ctx: RequestContext, clientId: string): Promise<ClientView | null> {
  return (await call(deps.bus, GetClient, { ctx, clientId }, timeout(deps))).client;
}

/** The live session whose cookie value this is, as authn has it; null when none (unknown, ended, expired, wrong secret). */
export async function resolvedSession(deps: PeerDeps, ctx: RequestContext, sessionToken: string): Promise<SessionView | null> {
  return (await call(deps.bus, ResolveSession, { ctx, sessionToken }, timeout(deps))).session;
}
