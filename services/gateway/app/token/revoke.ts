import { RevokeToken } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { call } from '../../../../infra/bus/typed.js';
import { authenticateClient } from '../client-authentication.js';
import type { GatewayOptions } from '../gateway.options.js';

/**
 * Token revocation (RFC 7009 §2.1): the client authenticates as at the token endpoint (a public
 * client by its client_id, §5), then the token-issuer revokes the token if it is the caller's.
 */
export async function revoke(
  options: Pick<GatewayOptions, 'bus' | 'tenant' | 'requestTimeoutMs'>,
  headers: Record<string, string | string[] | undefined>,
  form: Record<string, string>,
): Promise<void> {
  const { client, ctx } = await authenticateClient(options, headers, form);
  if (!form.token) throw new OAuthError('invalid_request', 'token is required');
  await call(
    options.bus,
    RevokeToken,
    { ctx, caller: client, token: form.token, ...(form.token_type_hint && form.token_type_hint.length <= 64 ? { tokenTypeHint: form.token_type_hint } : {}) },
    { timeoutMs: options.requestTimeoutMs },
  );
}
