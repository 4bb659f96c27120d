import { OAuthError } from './oauth-error.js';

/**
 * The scopes this server knows (OIDC Core §5.4, §11), in one place: client registration accepts
 * only these, a client registered without `scope` gets all of them, discovery advertises them.
 */
export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'] as const;
export type SupportedScope = (typeof SUPPORTED_SCOPES)[number];

/**
 * Scopes that speak for a user (OIDC Core §5.4, §11): meaningless, so refused, where no user takes
 * part (client credentials).
 */
export const USER_SCOPES: readonly string[] = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'];

/**
 * An API scope a resource server defines, namespaced so it can never be mistaken for an OpenID
 * scope: `orders:read`, `inventory.items:write`. A client may register API scopes only with the
 * initial access token: with open registration anyone could give themselves any API's permissions.
 */
export const API_SCOPE = /^[a-z][a-z0-9_-]{0,63}(?:[.:][a-z0-9_-]{1,64}){1,4}$/;

export function isApiScope(scope: string): boolean {
  return API_SCOPE.test(scope) && !(SUPPORTED_SCOPES as readonly string[]).includes(scope);
}

/** RFC 6749 §3.3: scope-token = 1*NQCHAR (no space, `"` or `\`), here at most 128 characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;

/**
 * The scope tokens of a `scope` parameter, each once, in order. A malformed one is
 * `invalid_scope` without echoing it (RFC 6749 §5.2 limits error_description's characters).
 */
export function scopeTokens(scope: string): string[] {
  const tokens = [...new Set(scope.split(' ').filter(Boolean))];
  if (tokens.length > 64 || tokens.some((token) => !SCOPE_TOKEN.test(token))) {
    throw new OAuthError('invalid_scope', 'the scope is malformed');
  }
  return tokens;
}
