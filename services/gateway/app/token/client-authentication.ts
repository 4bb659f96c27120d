import type { TokenEndpointAuthMethod } from '../../../../contracts/events/client.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';

export interface PresentedClientAuthentication {
  clientId: string;
  method: TokenEndpointAuthMethod;
  clientSecret: string | null;
}

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
  const bodyId = typeof body.client_id === 'string' ? body.client_id : undefined;
  const bodySecret = typeof body.client_secret === 'string' ? body.client_secret : undefined;

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
    return { clientId, method: 'client_secret_basic', clientSecret };
  }
  if (bodyId === undefined) throw invalidClient('client authentication is required');
  if (bodySecret !== undefined) return { clientId: bodyId, method: 'client_secret_post', clientSecret: bodySecret };
  return { clientId: bodyId, method: 'none', clientSecret: null };
}
