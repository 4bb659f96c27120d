import { grantOf, type RepeatedParameters } from '../../../../contracts/grants/index.js';
import { GrantTokens, type TokenResponse } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { call } from '../../../../infra/bus/typed.js';
import { authenticateClient } from '../client-authentication.js';
import type { GatewayOptions } from '../gateway.options.js';

/**
 * The token endpoint (RFC 6749 §3.2): authenticate the client, find the grant type among the
 * grants (contracts/grants/), check the client registered it (§5.2 `unauthorized_client`), read
 * the grant's parameters, and ask the token-issuer.
 */
export async function requestTokens(
  options: Pick<GatewayOptions, 'bus' | 'tenant' | 'requestTimeoutMs'>,
  headers: Record<string, string | string[] | undefined>,
  form: Record<string, string>,
  repeated: RepeatedParameters = { resource: [] },
  source: string | null = null,
): Promise<TokenResponse> {
  const { client, ctx } = await authenticateClient(options, headers, form);
  const grantType = form.grant_type;
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
  const grant = grantOf(grantType);
  if (!grant) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
  if (!client.grantTypes.includes(grantType)) {
    throw new OAuthError('unauthorized_client', `the client may not use grant_type ${grantType}`);
  }
  return call(options.bus, GrantTokens, { ctx, client, grant: grant.fromForm(form, repeated), source }, { timeoutMs: options.requestTimeoutMs });
}
