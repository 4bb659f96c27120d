import type { TokenEndpointAuthMethod } from '../../../../contracts/events/client.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import type { ClientState, RegisteredClient } from './state.js';

/**
 * RFC 6749 §2.3 and §5.2: a client authenticates with exactly the method it registered. Every
 * failure is the same `invalid_client` (401), so the answer does not tell which part was wrong.
 * `secretMatches` is computed by the caller in constant time.
 */
export function authenticateClient(
  state: ClientState,
  method: TokenEndpointAuthMethod,
  secretMatches: (secretHash: string) => boolean,
): RegisteredClient {
  const fail = (detail: string) =>
    new OAuthError('invalid_client', 'client authentication failed', { mayRedirect: false, detail });
  if (state.status !== 'registered') throw fail('unknown client');
  const { client } = state;
  if (client.tokenEndpointAuthMethod !== method) {
    throw fail(`client registered ${client.tokenEndpointAuthMethod}, used ${method}`);
  }
  if (method === 'none') return client;
  if (client.secretHash === null || !secretMatches(client.secretHash)) throw fail('wrong secret');
  return client;
}
