import type { ClaimsRequest } from '../../../../contracts/claims.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import { sameLoopbackIgnoringPort } from '../../../../contracts/redirect-uris.js';
import type { ResponseMode, ResponseType } from '../../../../contracts/response-types.js';

export type Prompt = 'none' | 'login' | 'consent';
export type Display = 'page' | 'popup' | 'touch' | 'wap';

/**
 * A validated authorization request, as it waits in the sealed pending-request cookie for the
 * login and consent forms (DESIGN §4: not in the log).
 */
export interface AuthorizationRequest {
  /**
   * Random id of this pending request, a UUID. The login and consent forms echo it, and it is the
   * id of the grant the request ends in: a request completed once cannot be completed again,
   * since that grant's stream exists then (exactly one of two concurrent completions wins).
   */
  rid: string;
  clientId: string;
  redirectUri: string;
  responseType: ResponseType;
  responseMode: ResponseMode;
  scope: string;
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  /** OIDC Core §3.1.2.1: a space-separated set; `none` only alone. */
  prompt?: Prompt[];
  /** OIDC Core §3.1.2.1: seconds since the last active authentication that are still good enough. */
  maxAge?: number;
  display?: Display;
  /** OIDC Core §3.1.2.1: preferred languages of the pages, then of the claims. */
  uiLocales?: string[];
  claimsLocales?: string[];
  /** OIDC Core §3.1.2.1: the login name the client expects; the login form is prefilled with it. */
  loginHint?: string;
  /** The raw `id_token_hint`, until the session step has verified it (then only its subject stays). */
  idTokenHint?: string;
  /** OIDC Core §3.1.2.1: the user the verified `id_token_hint` names; only they may be answered for. */
  idTokenHintSub?: string;
  /** OIDC Core §5.5.1: the `sub` the `claims` parameter asks for by value; only they may be answered for. */
  requiredSub?: string;
  /** OIDC Core §3.1.2.1: requested Authentication Context Class References, in order of preference. */
  acrValues?: string[];
  /** OIDC Core §5.5: the `claims` request parameter, parsed. */
  claims?: ClaimsRequest;
  /**
   * The session this request was answered for (set when the consent page is shown): the consent
   * form is honoured only with that same session, so a pending-request cookie planted in another
   * browser, or a session swapped in between, completes nothing.
   */
  sessionId?: string;
  /**
   * The session started by the login form of this very request: the proof that `prompt=login`
   * and `max_age` were met here, not by an older session posting the consent form directly.
   */
  loginSessionId?: string;
}

/** Raw parameters: Fastify gives a string, or an array when a parameter is repeated. */
export type RawParams = Record<string, unknown>;

export function single(params: RawParams, name: string, options: { mayRedirect: boolean }): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  // RFC 6749 §3.1: request parameters must not be included more than once.
  if (Array.isArray(value)) {
    throw new OAuthError('invalid_request', `${name} is repeated`, { mayRedirect: options.mayRedirect });
  }
  if (typeof value !== 'string') {
    throw new OAuthError('invalid_request', `${name} must be a string`, { mayRedirect: options.mayRedirect });
  }
  return value === '' ? undefined : value;
}

/** Step "client": the parameter needed to know where errors may go. Never redirects. */
export function requestedClientId(params: RawParams): string {
  const clientId = single(params, 'client_id', { mayRedirect: false });
  if (clientId === undefined) throw new OAuthError('invalid_request', 'client_id is required', { mayRedirect: false });
  return clientId;
}

/**
 * Step "redirect URI": it must be one the client registered, compared exactly; except that a
 * native client's loopback redirect URI matches on any port (RFC 8252 §7.3). An unknown or
 * mismatched URI is never redirected to (RFC 6749 §4.1.2.1; RFC 9700 §4.1).
 */
export function matchRedirectUri(params: RawParams, client: ClientView): string {
  const requested = single(params, 'redirect_uri', { mayRedirect: false });
  if (requested === undefined) {
    // OIDC Core §3.1.2.1 requires it; we require it always, so the token request can insist on it.
    throw new OAuthError('invalid_request', 'redirect_uri is required', { mayRedirect: false });
  }
  if (client.redirectUris.includes(requested)) return requested;
  if (client.applicationType === 'native' && client.redirectUris.some((r) => sameLoopbackIgnoringPort(r, requested))) {
    return requested;
  }
  throw new OAuthError('invalid_request', 'redirect_uri is not registered for this client', { mayRedirect: false });
}
