import { OAuthError } from '../../../../contracts/oauth-error.js';
import type { ClientState, RegisteredClient } from './state.js';

/**
 * Who asks to manage a client: its holder of the RFC 7592 registration access token (the
 * gateway passes the token's SHA-256), or an administrator over the bus (a trusted caller: the
 * bus is a trust boundary, see README).
 */
export type ClientAccess = { kind: 'registration_access_token'; tokenHash: string } | { kind: 'admin' };

/**
 * RFC 7592 §2.1 and RFC 6750 §3.1: a missing client, a deleted one, one without a registration
 * access token and a wrong token all read the same, 401 `invalid_token`, so the answer does not
 * tell whether the client exists. An administrator asking about a missing client gets
 * `invalid_request`.
 */
export function authorizeClientAccess(state: ClientState, access: ClientAccess): RegisteredClient {
  if (access.kind === 'admin') {
    if (state.status !== 'registered') throw new OAuthError('invalid_request', 'no such client', { mayRedirect: false, detail: state.status });
    return state.client;
  }
  const refuse = (detail: string) =>
    new OAuthError('invalid_token', 'the registration access token is invalid', { mayRedirect: false, detail });
  if (state.status !== 'registered') throw refuse(`client ${state.status}`);
  const stored = state.client.registrationAccessTokenHash;
  if (stored === null) throw refuse('client has no registration access token');
  if (!sameHash(stored, access.tokenHash)) throw refuse('wrong registration access token');
  return state.client;
}

/** Compares two hex digests in time independent of where they differ. */
export function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
