import { OAuthError } from '../../../../contracts/oauth-error.js';
import type { ClientView } from '../../../../contracts/messages/client-registry.js';

/** A validated authorization request, as it travels in the sealed `idp_authz` cookie. */
export interface AuthorizationRequest {
  /** Random id of this pending request; the login and consent forms echo it (CSRF check). */
  rid: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  /** OIDC Core §3.1.2.1: a space-separated set; `none` only alone. */
  prompt?: Array<'none' | 'login' | 'consent'>;
  /** OIDC Core §3.1.2.1: seconds since the last active authentication that are still good enough. */
  maxAge?: number;
}

/** Raw parameters: Fastify gives a string, or an array when a parameter is repeated. */
export type RawParams = Record<string, string | string[] | undefined>;

const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** The pending request travels in a cookie: browsers drop cookies over 4 KB. */
const MAX_STATE_OR_NONCE = 512;
const LOOPBACK_IP = new Set(['127.0.0.1', '[::1]']);

function single(params: RawParams, name: string, options: { mayRedirect: boolean }): string | undefined {
  const value = params[name];
  // RFC 6749 §3.1: request parameters must not be included more than once.
  if (Array.isArray(value)) {
    throw new OAuthError('invalid_request', `${name} is repeated`, { mayRedirect: options.mayRedirect });
  }
  return value === '' ? undefined : value;
}

/** Step 1: the parameters needed to know where errors may go. Never redirects. */
export function requestedClientId(params: RawParams): string {
  const clientId = single(params, 'client_id', { mayRedirect: false });
  if (clientId === undefined) throw new OAuthError('invalid_request', 'client_id is required', { mayRedirect: false });
  return clientId;
}

/**
 * Step 2: the redirect URI must be one the client registered, compared exactly; except that a
 * native client's loopback IP redirect URI matches on any port (RFC 8252 §7.3). An unknown or
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

function sameLoopbackIgnoringPort(registered: string, requested: string): boolean {
  try {
    const a = new URL(registered);
    const b = new URL(requested);
    if (a.protocol !== 'http:' || b.protocol !== 'http:' || !LOOPBACK_IP.has(a.hostname)) return false;
    a.port = '';
    b.port = '';
    return a.href === b.href;
  } catch {
    return false;
  }
}

/** Step 3: everything else. Errors from here on go back to the (now trusted) redirect URI. */
export function validateAuthorizationRequest(
  params: RawParams,
  client: ClientView,
  redirectUri: string,
  rid: string,
): AuthorizationRequest {
  const get = (name: string) => single(params, name, { mayRedirect: true });
  if (get('request') !== undefined) throw new OAuthError('request_not_supported', 'request objects are not supported');
  if (get('request_uri') !== undefined) {
    throw new OAuthError('request_uri_not_supported', 'request_uri is not supported');
  }

  const responseType = get('response_type');
  if (responseType === undefined) throw new OAuthError('invalid_request', 'response_type is required');
  if (responseType !== 'code') {
    throw new OAuthError('unsupported_response_type', `response_type ${responseType} is not supported`);
  }
  if (!client.responseTypes.includes(responseType)) {
    throw new OAuthError('unauthorized_client', `the client may not use response_type ${responseType}`);
  }
  const responseMode = get('response_mode');
  if (responseMode !== undefined && responseMode !== 'query') {
    throw new OAuthError('invalid_request', `response_mode ${responseMode} is not supported`);
  }

  const scopes = [...new Set((get('scope') ?? '').split(' ').filter(Boolean))];
  if (scopes.length === 0) throw new OAuthError('invalid_scope', 'scope is required');
  const allowed = client.scope.split(' ');
  const notAllowed = scopes.find((s) => !allowed.includes(s));
  if (notAllowed !== undefined) throw new OAuthError('invalid_scope', `scope ${notAllowed} is not allowed for this client`);

  // RFC 7636 and RFC 9700 §2.1.1: S256 only; public clients must use PKCE.
  const codeChallenge = get('code_challenge');
  const method = get('code_challenge_method');
  if (codeChallenge !== undefined) {
    if (method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
    if (!CODE_CHALLENGE.test(codeChallenge)) throw new OAuthError('invalid_request', 'code_challenge is malformed');
  } else if (method !== undefined) {
    throw new OAuthError('invalid_request', 'code_challenge_method without code_challenge');
  } else if (client.tokenEndpointAuthMethod === 'none') {
    throw new OAuthError('invalid_request', 'public clients must use PKCE (code_challenge with S256)');
  }

  const prompt = parsePrompt(get('prompt'));
  const maxAgeText = get('max_age');
  if (maxAgeText !== undefined && !/^\d{1,9}$/.test(maxAgeText)) {
    throw new OAuthError('invalid_request', 'max_age must be a non-negative integer');
  }
  const state = get('state');
  const nonce = get('nonce');
  for (const [name, value] of [['state', state], ['nonce', nonce]] as const) {
    if (value !== undefined && value.length > MAX_STATE_OR_NONCE) {
      throw new OAuthError('invalid_request', `${name} is longer than ${MAX_STATE_OR_NONCE} characters`);
    }
  }
  return {
    rid,
    clientId: client.clientId,
    redirectUri,
    scope: scopes.join(' '),
    ...(state !== undefined ? { state } : {}),
    ...(nonce !== undefined ? { nonce } : {}),
    ...(codeChallenge !== undefined ? { codeChallenge } : {}),
    ...(prompt !== undefined ? { prompt } : {}),
    ...(maxAgeText !== undefined ? { maxAge: Number(maxAgeText) } : {}),
  };
}

function parsePrompt(value: string | undefined): AuthorizationRequest['prompt'] {
  if (value === undefined) return undefined;
  const prompts = [...new Set(value.split(' ').filter(Boolean))];
  for (const p of prompts) {
    if (p !== 'none' && p !== 'login' && p !== 'consent') {
      throw new OAuthError('invalid_request', `prompt ${p} is not supported`);
    }
  }
  if (prompts.includes('none') && prompts.length > 1) {
    throw new OAuthError('invalid_request', 'prompt none cannot be combined with other values');
  }
  return prompts as Array<'none' | 'login' | 'consent'>;
}

/** RFC 6749 §4.1.2 and RFC 9207: the response parameters appended to the redirect URI's query. */
export function authorizationResponseUri(
  redirectUri: string,
  issuer: string,
  params: Record<string, string | undefined>,
): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.append(name, value);
  }
  url.searchParams.append('iss', issuer);
  return url.href;
}
