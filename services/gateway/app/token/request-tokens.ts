import type { z } from 'zod';
import { grantOf, type GrantRequest, type GrantType, type RepeatedParameters } from '../../../../contracts/grants/index.js';
import { GrantTokens, type TokenResponse, type UnreadableGrant } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { call } from '../../../../infra/bus/typed.js';
import { presentedClient } from '../client-authentication.js';
import type { GatewayOptions } from '../gateway.options.js';

/**
 * The token endpoint (RFC 6749 §3.2): read the client's authentication and the grant from the
 * request (contracts/grants/), and ask the token-issuer, which has the client authenticated,
 * checks it registered the grant type (§5.2 `unauthorized_client`) and issues. What the form
 * gets wrong travels along and is answered after the client's authentication, in the order of
 * §5.2 as ever: `invalid_client`, then a missing or unsupported grant type, then
 * `unauthorized_client`, then the grant's own parameters.
 */
export async function requestTokens(
  options: Pick<GatewayOptions, 'bus' | 'tenant' | 'requestTimeoutMs'>,
  headers: Record<string, string | string[] | undefined>,
  form: Record<string, string>,
  repeated: RepeatedParameters = { resource: [] },
  source: string | null = null,
): Promise<TokenResponse> {
  const { presented, ctx } = presentedClient(options, headers, form);
  return call(options.bus, GrantTokens, { ctx, client: presented, ...readGrant(form, repeated), source }, { timeoutMs: options.requestTimeoutMs });
}

function readGrant(
  form: Record<string, string>,
  repeated: RepeatedParameters,
): { grant: z.input<typeof GrantRequest> } | { unreadable: z.input<typeof UnreadableGrant> } {
  const grantType = form.grant_type;
  if (!grantType) return unreadable(new OAuthError('invalid_request', 'grant_type is required'));
  const grant = grantOf(grantType);
  if (!grant) return unreadable(new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`));
  try {
    return { grant: grant.fromForm(form, repeated) };
  } catch (error) {
    if (error instanceof OAuthError) return unreadable(error, grant.grantType);
    throw error;
  }
}

const unreadable = (error: OAuthError, grantType?: GrantType) => ({
  unreadable: { ...(grantType !== undefined ? { grantType } : {}), error: error.toBody() },
});
