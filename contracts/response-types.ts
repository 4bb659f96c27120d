/**
 * The response types of the authorization endpoint (RFC 6749 §3.1.1, OAuth 2.0 Multiple Response
 * Type Encoding Practices §3-5, OIDC Core §3.1-3.3) and the response modes that carry them.
 *
 * A response type is a space-separated set: `code id_token` and `id_token code` are the same one.
 * `canonicalResponseType` gives the spelling used everywhere inside (registration, events).
 */
export const RESPONSE_TYPES = ['code', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token'] as const;
export type ResponseType = (typeof RESPONSE_TYPES)[number];

export const RESPONSE_MODES = ['query', 'fragment', 'form_post'] as const;
export type ResponseMode = (typeof RESPONSE_MODES)[number];

const ORDER = ['code', 'id_token', 'token'];

/** The canonical spelling of a response type, or undefined when it is none of RESPONSE_TYPES. */
export function canonicalResponseType(value: string): ResponseType | undefined {
  const parts = value.split(' ');
  if (parts.some((p) => p === '') || new Set(parts).size !== parts.length) return undefined;
  if (parts.some((p) => !ORDER.includes(p))) return undefined;
  const canonical = [...parts].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)).join(' ');
  return (RESPONSE_TYPES as readonly string[]).includes(canonical) ? (canonical as ResponseType) : undefined;
}

export const issuesCode = (type: ResponseType): boolean => type.split(' ').includes('code');
export const issuesIdToken = (type: ResponseType): boolean => type.split(' ').includes('id_token');
export const issuesAccessToken = (type: ResponseType): boolean => type.split(' ').includes('token');

/**
 * A response type that returns a token from the authorization endpoint (implicit and hybrid):
 * off for a client unless it registered it, and only with the operator's initial access token.
 */
export const returnsTokens = (type: ResponseType): boolean => type !== 'code';

/**
 * Multiple Response Types §2.1 and §3-5: `code` answers in the query by default; anything that
 * returns a token answers in the fragment, and must never be put in the query (RFC 9700 §2.1.2:
 * tokens in a URL's query leak through logs and Referer).
 */
export function defaultResponseMode(type: ResponseType): ResponseMode {
  return returnsTokens(type) ? 'fragment' : 'query';
}

export function responseModeAllowed(type: ResponseType, mode: ResponseMode): boolean {
  return !(mode === 'query' && returnsTokens(type));
}

/**
 * OIDC Registration §2: the grant types a response type needs. `code` goes with
 * `authorization_code`, `id_token` and `token` with `implicit`.
 */
export function grantTypesFor(type: ResponseType): string[] {
  const parts = type.split(' ');
  return [
    ...(parts.includes('code') ? ['authorization_code'] : []),
    ...(parts.includes('id_token') || parts.includes('token') ? ['implicit'] : []),
  ];
}
