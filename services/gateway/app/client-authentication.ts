import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { PresentedClientAuthentication } from '../../../contracts/messages/client-registry.js';
import { OAuthError } from '../../../contracts/oauth-error.js';
import type { GatewayOptions } from './gateway.options.js';
import { requestContext } from './request-context.js';

export type { PresentedClientAuthentication };

const invalidClient = (description: string) =>
  new OAuthError('invalid_client', description, { mayRedirect: false });

/**
 * RFC 6749 §2.3.1: which client authentication the request carries. Exactly one method may be
 * used; HTTP Basic credentials are form-urlencoded before base64 (so decode them).
 */
export function presentedClientAuthentication(
  authorization: string | undefined,
  body: Record<string, unknown>,
): PresentedClientAuthentication {
  // RFC 6749 §3.2: a parameter sent without a value is an omitted one.
  const bodyId = typeof body.client_id === 'string' && body.client_id !== '' ? body.client_id : undefined;
  const bodySecret = typeof body.client_secret === 'string' && body.client_secret !== '' ? body.client_secret : undefined;

  if (authorization !== undefined && /^basic /i.test(authorization)) {
    if (bodySecret !== undefined) {
      throw new OAuthError('invalid_request', 'more than one client authentication method', { mayRedirect: false });
    }
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidClient('malformed Basic credentials');
    let clientId: string;
    let clientSecret: string;
    try {
      clientId = decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' '));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' '));
    } catch {
      throw invalidClient('malformed Basic credentials');
    }
    if (bodyId !== undefined && bodyId !== clientId) {
      throw new OAuthError('invalid_request', 'client_id does not match the authenticated client', { mayRedirect: false });
    }
    if (!plausibleClientId(clientId)) throw invalidClient('client authentication failed');
    return { clientId, method: 'client_secret_basic', clientSecret };
  }
  if (bodyId === undefined) throw invalidClient('client authentication is required');
  if (!plausibleClientId(bodyId)) throw invalidClient('client authentication failed');
  if (bodySecret !== undefined) return { clientId: bodyId, method: 'client_secret_post', clientSecret: bodySecret };
  return { clientId: bodyId, method: 'none', clientSecret: null };
}

/**
 * No client has an empty id or one longer than an event's actor id may be (256 characters): such
 * a client_id is an unknown client (401), not a malformed request.
 */
function plausibleClientId(clientId: string): boolean {
  return clientId.length >= 1 && clientId.length <= 256;
}

/**
 * The one client authentication step of the back-channel endpoints (token, revocation,
 * introspection): reads what the request presents (RFC 6749 §2.3.1) and returns it with the
 * request's context (the client as actor). It proves nothing yet: the token-issuer has the
 * client-registry check it, in the same request that asks for the tokens, so that nothing is
 * granted on the gateway's word. Only what the request itself shows is refused here: malformed
 * Basic credentials, two methods at once, no client at all, or no secret where the endpoint
 * needs one (introspection, RFC 7662 §2.1).
 */
export function presentedClient(
  options: Pick<GatewayOptions, 'tenant'>,
  headers: Record<string, string | string[] | undefined>,
  form: Record<string, string>,
  endpoint: { publicClients: boolean } = { publicClients: true },
): { presented: PresentedClientAuthentication; ctx: RequestContext } {
  const authorization = typeof headers.authorization === 'string' ? headers.authorization : undefined;
  const presented = presentedClientAuthentication(authorization, form);
  // An endpoint that tells about tokens (introspection, RFC 7662 §2.1) needs a client that proves
  // who it is: a client_id alone proves nothing.
  if (!endpoint.publicClients && presented.method === 'none') throw invalidClient('this endpoint requires client authentication');
  const ctx = requestContext(options.tenant, headers, { kind: 'client', id: presented.clientId });
  return { presented, ctx };
}
