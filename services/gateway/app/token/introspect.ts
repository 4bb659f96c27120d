import { IntrospectToken, type IntrospectionResponse } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { call } from '../../../../infra/bus/typed.js';
import { authenticateClient } from '../client-authentication.js';
import type { GatewayOptions } from '../gateway.options.js';

/**
 * Token introspection (RFC 7662 §2): only an authenticated (confidential) client may ask, and
 * an unauthenticated request is 401, never an answer (§2.1, §4). What the caller may learn is
 * the token-issuer's decision.
 */
export async function introspect(
  options: Pick<GatewayOptions, 'bus' | 'tenant' | 'requestTimeoutMs'>,
  headers: Record<string, string | string[] | undefined>,
  form: Record<string, string>,
): Promise<IntrospectionResponse> {
  const { client, ctx } = await authenticateClient(options, headers, form, { publicClients: false });
  if (!form.token) throw new OAuthError('invalid_request', 'token is required');
  return call(
    options.bus,
    IntrospectToken,
    { ctx, caller: client, token: form.token, ...(form.token_type_hint ? { tokenTypeHint: form.token_type_hint } : {}) },
    { timeoutMs: options.requestTimeoutMs },
  );
}
