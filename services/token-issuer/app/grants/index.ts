import type { z } from 'zod';
import type { RequestContext } from '../../../../contracts/events/metadata.js';
import type { Grant, GrantRequest, GrantType } from '../../../../contracts/grants/index.js';
import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import type { TokenResponse } from '../../../../contracts/messages/token-issuer.js';
import type { TokenIssuerDeps } from '../token-issuer.deps.js';
import { redeemAuthorizationCode } from './authorization_code.js';
import { grantClientCredentials } from './client_credentials.js';
import { grantPassword } from './password.js';
import { refreshTokens } from './refresh_token.js';

type GrantHandler<G extends Grant> = (
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  client: ClientView,
  request: z.infer<G['request']>,
  /** The token request's client IP, or null (only the password grant uses it: its login's source). */
  source: string | null,
) => Promise<TokenResponse>;

/**
 * One handler per grant type of contracts/grants/. Typed over the list, so a grant type added
 * there without its handler here does not compile.
 */
const HANDLERS: { [K in GrantType]: GrantHandler<Extract<Grant, { grantType: K }>> } = {
  authorization_code: redeemAuthorizationCode,
  client_credentials: grantClientCredentials,
  password: grantPassword,
  refresh_token: refreshTokens,
};

/** Issues the tokens of one token request (RFC 6749 §3.2), for a client already authenticated. */
export function grantTokens(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  client: ClientView,
  grant: GrantRequest,
  source: string | null = null,
): Promise<TokenResponse> {
  const handler = HANDLERS[grant.grantType] as GrantHandler<Grant>;
  return handler(deps, ctx, client, grant, source);
}
