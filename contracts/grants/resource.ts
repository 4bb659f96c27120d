import { z } from 'zod';
import { OAuthError } from '../oauth-error.js';

/** At most this many `resource` parameters in one request (each becomes an `aud` value). */
const MAX_RESOURCES = 10;

/** The audience a grant's access tokens are for (RFC 8707), as the token-issuer receives it. */
export const Resources = z.array(z.string().min(1).max(2048)).max(MAX_RESOURCES);

/**
 * RFC 8707 §2: every `resource` is an absolute URI without a fragment; anything else is
 * `invalid_target`. Repeated values count once.
 */
export function resourceIndicators(values: string[]): string[] {
  if (values.length > MAX_RESOURCES) throw new OAuthError('invalid_target', `at most ${MAX_RESOURCES} resource parameters`);
  for (const value of values) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new OAuthError('invalid_target', 'resource must be an absolute URI');
    }
    if (value.includes('#') || url.hash !== '') throw new OAuthError('invalid_target', 'resource must not contain a fragment');
    if (value.length > 2048) throw new OAuthError('invalid_target', 'resource is too long');
  }
  return [...new Set(values)];
}
