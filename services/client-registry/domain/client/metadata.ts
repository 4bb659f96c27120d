import { GRANT_TYPES } from '../../../../contracts/grants/index.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { isApiScope, SUPPORTED_SCOPES } from '../../../../contracts/scopes.js';
import { ID_TOKEN_SIGNING_ALGS, type IdTokenSigningAlg, type RegistrationAuthority, type TokenEndpointAuthMethod } from '../../../../contracts/events/client.js';
import { LOOPBACK_HOSTS } from '../../../../contracts/redirect-uris.js';
import { canonicalResponseType, grantTypesFor, RESPONSE_TYPES, returnsTokens, type ResponseType } from '../../../../contracts/response-types.js';

export { SUPPORTED_SCOPES };
/**
 * The grant types a client may register: those the token endpoint serves (contracts/grants/),
 * and `implicit`, which names the tokens of the authorization endpoint (OIDC Registration §2).
 */
export const SUPPORTED_GRANT_TYPES: readonly string[] = [...GRANT_TYPES, 'implicit'];
export const SUPPORTED_RESPONSE_TYPES: readonly string[] = RESPONSE_TYPES;
export const SUPPORTED_AUTH_METHODS: TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none'];

export interface ValidClientMetadata {
  clientName?: string;
  applicationType: 'web' | 'native';
  redirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  scope: string;
  idTokenSignedResponseAlg: IdTokenSigningAlg;
  refreshTokenReuseGraceSeconds: number;
  /** RP-Initiated Logout 1.0 §3.1; validated like redirect URIs. */
  postLogoutRedirectUris: string[];
  /** Back-Channel Logout 1.0 §2.2; null: none. */
  backchannelLogoutUri: string | null;
  backchannelLogoutSessionRequired: boolean;
}

/** Grant types that send the user agent to a redirect URI (RFC 6749 §3.1.2). */
const REDIRECT_GRANT_TYPES: readonly string[] = ['authorization_code', 'implicit'];

const metadataError = (description: string) =>
  new OAuthError('invalid_client_metadata', description, { mayRedirect: false });
const redirectError = (description: string) =>
  new OAuthError('invalid_redirect_uri', description, { mayRedirect: false });

function stringList(value: unknown, field: string, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw metadataError(`${field} must be an array of strings`);
  }
  return [...new Set(value as string[])];
}

/**
 * RFC 7591 §2 and OIDC Registration §2: validates and fills defaults. Redirect URIs must be
 * absolute, without fragment; web clients use https, plain http only on a loopback host;
 * native clients may also use a private-use scheme (RFC 8252 §7.1).
 */
export function validateClientMetadata(
  input: Record<string, unknown>,
  authorizedBy: RegistrationAuthority = 'open',
): ValidClientMetadata {
  const applicationType = input.application_type ?? 'web';
  if (applicationType !== 'web' && applicationType !== 'native') {
    throw metadataError('application_type must be "web" or "native"');
  }

  const grantTypes = stringList(input.grant_types, 'grant_types', ['authorization_code']);
  const unsupportedGrant = grantTypes.find((g) => !SUPPORTED_GRANT_TYPES.includes(g));
  if (unsupportedGrant !== undefined || grantTypes.length === 0) {
    throw metadataError(`unsupported grant type ${unsupportedGrant ?? '(none)'}`);
  }
  const redirectBased = grantTypes.some((g) => REDIRECT_GRANT_TYPES.includes(g));

  // RFC 7591 §2: redirect URIs are required for redirect-based flows only.
  const redirectUris = stringList(input.redirect_uris, 'redirect_uris', []);
  if (redirectBased && redirectUris.length === 0) throw redirectError('redirect_uris is required');
  for (const uri of redirectUris) validateRedirectUri(uri, applicationType);

  const tokenEndpointAuthMethod = input.token_endpoint_auth_method ?? 'client_secret_basic';
  if (!SUPPORTED_AUTH_METHODS.includes(tokenEndpointAuthMethod as TokenEndpointAuthMethod)) {
    throw metadataError(`token_endpoint_auth_method must be one of ${SUPPORTED_AUTH_METHODS.join(', ')}`);
  }
  // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
  if (grantTypes.includes('client_credentials') && tokenEndpointAuthMethod === 'none') {
    throw metadataError('the client_credentials grant needs a confidential client (token_endpoint_auth_method other than none)');
  }
  // RFC 9700 §2.4: the password grant MUST NOT be used; it is kept for legacy clients that an
  // operator registers on purpose, i.e. with the initial access token, never openly.
  if (grantTypes.includes('password') && authorizedBy !== 'initial_access_token') {
    throw metadataError('the password grant may only be registered with the initial access token');
  }

  const responseTypes = validResponseTypes(input.response_types, grantTypes, authorizedBy);

  const scopeInput = input.scope ?? SUPPORTED_SCOPES.join(' ');
  if (typeof scopeInput !== 'string') throw metadataError('scope must be a string');
  const scopes = scopeInput.split(' ').filter(Boolean);
  const unknownScope = scopes.find((s) => !(SUPPORTED_SCOPES as readonly string[]).includes(s) && !isApiScope(s));
  if (unknownScope !== undefined) throw metadataError(`unsupported scope ${unknownScope}`);
  // An API's permissions are the operator's to hand out: never to whoever registers openly.
  const apiScope = scopes.find(isApiScope);
  if (apiScope !== undefined && authorizedBy !== 'initial_access_token') {
    throw metadataError(`API scope ${apiScope} may only be registered with the initial access token`);
  }

  const alg = input.id_token_signed_response_alg ?? 'RS256';
  if (!ID_TOKEN_SIGNING_ALGS.includes(alg as IdTokenSigningAlg)) throw metadataError(`id_token_signed_response_alg must be one of ${ID_TOKEN_SIGNING_ALGS.join(', ')}`);

  const grace = input.refresh_token_reuse_grace_seconds ?? 0;
  if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > 60) {
    throw metadataError('refresh_token_reuse_grace_seconds must be an integer from 0 to 60');
  }

  const logout = validateLogoutMetadata(input, applicationType);
  // The server itself POSTs to a back-channel URI, so whoever registers one points the IdP at a
  // host of their choosing (loopback and internal ones included): the operator's call, never an
  // open registration's (SSRF).
  if (logout.backchannelLogoutUri !== null && authorizedBy !== 'initial_access_token') {
    throw metadataError('backchannel_logout_uri may only be registered with the initial access token');
  }

  const clientName = input.client_name;
  if (clientName !== undefined && (typeof clientName !== 'string' || clientName.length > 200)) {
    throw metadataError('client_name must be a string of at most 200 characters');
  }

  return {
    ...(clientName !== undefined ? { clientName } : {}),
    applicationType,
    redirectUris,
    grantTypes,
    responseTypes,
    tokenEndpointAuthMethod: tokenEndpointAuthMethod as TokenEndpointAuthMethod,
    scope: [...new Set(scopes)].join(' '),
    idTokenSignedResponseAlg: alg as IdTokenSigningAlg,
    refreshTokenReuseGraceSeconds: grace,
    ...logout,
  };
}

/**
 * RP-Initiated Logout 1.0 §3.1: `post_logout_redirect_uris` follow the rules of redirect URIs
 * (absolute, no fragment, https or loopback http, a native client's private-use scheme).
 * Back-Channel Logout 1.0 §2.2: `backchannel_logout_uri` is an absolute URL without fragment; we
 * ask https, or http on a loopback host; `backchannel_logout_session_required` a boolean,
 * default false.
 */
function validateLogoutMetadata(input: Record<string, unknown>, applicationType: 'web' | 'native') {
  const postLogoutRedirectUris = stringList(input.post_logout_redirect_uris, 'post_logout_redirect_uris', []);
  for (const uri of postLogoutRedirectUris) {
    try {
      validateRedirectUri(uri, applicationType);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      throw metadataError(`post_logout_redirect_uris: ${error.description ?? 'invalid URI'}`);
    }
  }

  const uri = input.backchannel_logout_uri;
  let backchannelLogoutUri: string | null = null;
  if (uri !== undefined && uri !== null) {
    if (typeof uri !== 'string') throw metadataError('backchannel_logout_uri must be a string');
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw metadataError('backchannel_logout_uri is not an absolute URL');
    }
    if (url.hash !== '' || uri.includes('#')) throw metadataError('backchannel_logout_uri must not contain a fragment');
    const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
    if (url.protocol !== 'https:' && !loopbackHttp) {
      throw metadataError('backchannel_logout_uri must be https (plain http only on a loopback host)');
    }
    if (url.username !== '' || url.password !== '') throw metadataError('backchannel_logout_uri must not carry credentials');
    backchannelLogoutUri = uri;
  }

  const sessionRequired = input.backchannel_logout_session_required ?? false;
  if (typeof sessionRequired !== 'boolean') throw metadataError('backchannel_logout_session_required must be a boolean');

  return { postLogoutRedirectUris, backchannelLogoutUri, backchannelLogoutSessionRequired: sessionRequired };
}

/**
 * RFC 7591 §2.1 and OIDC Registration §2: each response type needs its grant types (`code`:
 * authorization_code; `id_token`, `token`: implicit), and each redirect-based grant type needs a
 * response type. The token-returning types (implicit, hybrid) are opt-in, and only with the
 * operator's initial access token: open registration cannot ask for tokens in the front channel.
 */
function validResponseTypes(value: unknown, grantTypes: string[], authorizedBy: RegistrationAuthority): ResponseType[] {
  const requested = stringList(value, 'response_types', grantTypes.includes('authorization_code') ? ['code'] : []);
  const responseTypes: ResponseType[] = [];
  for (const raw of requested) {
    const type = canonicalResponseType(raw);
    if (type === undefined) throw metadataError(`unsupported response type ${raw}`);
    if (returnsTokens(type) && authorizedBy !== 'initial_access_token') {
      throw metadataError(`response type ${type} returns tokens from the authorization endpoint: it may only be registered with the initial access token`);
    }
    const missing = grantTypesFor(type).find((g) => !grantTypes.includes(g));
    if (missing !== undefined) throw metadataError(`response type ${type} needs grant type ${missing}`);
    if (!responseTypes.includes(type)) responseTypes.push(type);
  }
  if (grantTypes.includes('authorization_code') && !responseTypes.some((t) => t.split(' ').includes('code'))) {
    throw metadataError('grant type authorization_code needs a response type with code');
  }
  if (grantTypes.includes('implicit') && !responseTypes.some(returnsTokens)) {
    throw metadataError('grant type implicit needs a response type with id_token or token');
  }
  return responseTypes;
}

function validateRedirectUri(uri: string, applicationType: 'web' | 'native'): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw redirectError(`redirect URI is not an absolute URI: ${uri}`);
  }
  if (url.hash !== '' || uri.includes('#')) throw redirectError('redirect URI must not contain a fragment');
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return;
    throw redirectError('http redirect URIs are only allowed on a loopback host');
  }
  if (applicationType === 'native' && /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)) return;
  throw redirectError(`redirect URI scheme not allowed: ${url.protocol}`);
}
