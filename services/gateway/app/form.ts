import type { RepeatedParameters } from '../../../contracts/grants/index.js';
import { OAuthError } from '../../../contracts/oauth-error.js';

/**
 * The body of a back-channel request (token, revocation, introspection): RFC 6749 §3.2 and
 * RFC 7009 §2.1 / RFC 7662 §2.1 take `application/x-www-form-urlencoded` parameters, each at most
 * once (RFC 6749 §3.1). Returns every parameter as a string.
 */
export function parseForm(contentType: string | undefined, body: unknown, endpoint: string): Record<string, string> {
  return parseFormWithRepeats(contentType, body, endpoint).form;
}

/**
 * The token request's body: single parameters as strings, and the parameters an extension lets
 * the client repeat (RFC 8707 §2 `resource`) as lists. Any other repeated parameter is refused.
 */
export function parseFormWithRepeats(
  contentType: string | undefined,
  body: unknown,
  endpoint: string,
): { form: Record<string, string>; repeated: RepeatedParameters } {
  if (!String(contentType ?? '').startsWith('application/x-www-form-urlencoded')) {
    throw new OAuthError('invalid_request', `the ${endpoint} request must be application/x-www-form-urlencoded`);
  }
  const form: Record<string, string> = {};
  const repeated: RepeatedParameters = { resource: [] };
  for (const [name, value] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    if (name === 'resource') {
      repeated.resource = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && v !== '');
      continue;
    }
    if (Array.isArray(value)) throw new OAuthError('invalid_request', `${name} is repeated`);
    if (typeof value === 'string') form[name] = value;
  }
  return { form, repeated };
}
