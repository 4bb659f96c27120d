import { z } from 'zod';
import { OAuthError } from '../oauth-error.js';

/** The longest `scope` a token request may carry. */
const MAX_SCOPE_LENGTH = 2048;

/** The `scope` of a token request, as the token-issuer receives it. */
export const ScopeParameter = z.string().max(MAX_SCOPE_LENGTH).optional();

/**
 * The token request's `scope` (RFC 6749 §3.3), absent when empty; a longer one than any client
 * may hold is `invalid_scope` ("malformed", §5.2), not a bus message the token-issuer refuses.
 */
export function scopeParameter(form: Record<string, string>): { scope?: string } {
  if (!form.scope) return {};
  if (form.scope.length > MAX_SCOPE_LENGTH) throw new OAuthError('invalid_scope', 'the requested scope is too long');
  return { scope: form.scope };
}
