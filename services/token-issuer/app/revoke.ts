import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { ClientView } from '../../../contracts/messages/client-registry.js';
import { verifyAccessToken } from './access-token.js';
import { decideOnGrant } from './grant-stream.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * Token revocation (RFC 7009 §2). Access tokens are the only tokens there are (refresh tokens
 * come with their grant), so the hint (§2.1) changes nothing. Revoking a token revokes its grant,
 * recorded as `grant.revoked` (reason `revocation_request`, by the caller) and written through to
 * the projection, so the very next introspection or userinfo call refuses the token. A token
 * that is invalid, expired, already revoked or another client's is no error and no event (§2.2).
 */
export async function revokeToken(deps: TokenIssuerDeps, ctx: RequestContext, caller: ClientView, token: string): Promise<Record<string, never>> {
  const verified = await verifyAccessToken(deps, ctx, token);
  if (!verified || verified.clientId !== caller.clientId) return {};
  const { decision } = await decideOnGrant(deps, ctx, verified.grantId, { type: 'revoke', clientId: caller.clientId });
  if (decision.rejection) throw decision.rejection;
  return {};
}
