import { RevokeToken } from '../../../../contracts/messages/token-issuer.js';
import { call } from '../../../../infra/bus/typed.js';
import { presentedClient } from '../client-authentication.js';
import type { GatewayOptions } from '../gateway.options.js';

/**
 * Token revocation (RFC 7009 §2.1): the client authenticates as at the token endpoint (a public
 * client by its client_id, §5); the token-issuer has it authenticated, then revokes the token
 * if it is the caller's.
 */
export async function revoke(
  options: Pick<GatewayOptions, 'bus' | 'tenant' | 'requestTimeoutMs'>,
  headers: Record<string, string | string[] | undefined>,
  form: Record<string, string>,
): Promise<void> {
  const { presented, ctx } = presentedClient(options, headers, form);
  await call(
    options.bus,
    RevokeToken,
    { ctx, caller: presented, ...(form.token ? { token: form.token } : {}), ...(form.token_type_hint && form.token_type_hint.length <= 64 ? { tokenTypeHint: form.token_type_hint } : {}) },
    { timeoutMs: options.requestTimeoutMs },
  );
}
