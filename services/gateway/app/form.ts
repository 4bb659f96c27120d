import { OAuthError } from '../../../contracts/oauth-error.js';

/**
 * The body of a back-channel request (token, and later revocation and introspection): RFC 6749
 * §3.2 and RFC 7009 §2.1 / RFC 7662 §2.1 take `application/x-www-form-urlencoded` parameters,
 * each at most once (RFC 6749 §3.1). Returns every parameter as a string.
 */
export function parseForm(contentType: string | undefined, body: unknown, endpoint: string): Record<string, string> {
  if (!String(contentType ?? '').startsWith('application/x-www-form-urlencoded')) {
    throw new OAuthError('invalid_request', `the ${endpoint} request must be application/x-www-form-urlencoded`);
  }
  const form: Record<string, string> = {};
  for (const [name, value] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(value)) throw new OAuthError('invalid_request', `${name} is repeated`);
    if (typeof value === 'string') form[name] = value;
  }
  return form;
}
