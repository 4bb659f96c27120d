import { IntrospectToken, type IntrospectionResponse } from '../../../../contracts/messages/token-issuer.js';
import { call } from '../../../../infra/bus/typed.js';
import { presentedClient } from '../client-authentication.js';
import type { GatewayOptions } from '../gateway.options.js';

/**
 * Token introspection (RFC 7662 §2): only an authenticated (confidential) client may ask, and
 * an unauthenticated request is 401, never an answer (§2.1, §4). The token-issuer has the
 * client authenticated and decides what the caller may learn. With `Accept: application/token-introspection+jwt` the answer is
 * also a signed JWT (RFC 9701).
 */
export async function introspect(
  options: Pick<GatewayOptions, 'bus' | 'tenant' | 'requestTimeoutMs'>,
  headers: Record<string, string | string[] | undefined>,
  form: Record<string, string>,
): Promise<{ response: IntrospectionResponse; jwt?: string }> {
  const { presented, ctx } = presentedClient(options, headers, form, { publicClients: false });
  // RFC 9701 §4: the caller asks for a signed answer with this media type in Accept.
  const accept = typeof headers.accept === 'string' ? headers.accept : '';
  const format = /\bapplication\/token-introspection\+jwt\b/i.test(accept) ? 'jwt' : 'json';
  return call(
    options.bus,
    IntrospectToken,
    { ctx, caller: presented, ...(form.token ? { token: form.token } : {}), format, ...(form.token_type_hint && form.token_type_hint.length <= 64 ? { tokenTypeHint: form.token_type_hint } : {}) },
    { timeoutMs: options.requestTimeoutMs },
  );
}
