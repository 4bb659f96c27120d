import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { ClientView } from '../../../contracts/messages/client-registry.js';
import { verifyAccessToken } from './access-token.js';
import { findRefreshToken } from './refresh-token-lookup.js';
import { decideOnGrant } from './grant-stream.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * Token revocation (RFC 7009 §2). An access token or a refresh token (told apart by their form,
 * whatever the `token_type_hint` says, §2.1: the hint only speeds up the lookup) revokes its whole
 * grant: every access and refresh token of the lineage (§2.1 "SHOULD also invalidate all access
 * tokens based on the same authorization grant"). Recorded as `grant.revoked` (reason
 * `revocation_request`, by the caller) and written through to the projection, so the very next
 * introspection or userinfo call refuses the token. A token that is invalid, expired, already
 * revoked or another client's is no error and no event (§2.2).
 */
export async function revokeToken(deps: TokenIssuerDeps, ctx: RequestContext, caller: ClientView, token: string): Promise<Record<string, never>> {
  const owner = await grantOfToken(deps, ctx, token);
  if (owner === undefined || owner.clientId !== caller.clientId) return {};
  const { decision } = await decideOnGrant(deps, ctx, owner.grantId, { type: 'revoke', clientId: caller.clientId });
  if (decision.rejection) throw decision.rejection;
  return {};
}

async function grantOfToken(deps: TokenIssuerDeps, ctx: RequestContext, token: string): Promise<{ grantId: string; clientId: string } | undefined> {
  const refresh = await findRefreshToken(deps, ctx, token);
  if (refresh) return { grantId: refresh.grant.grantId, clientId: refresh.grant.subject.clientId };
  const verified = await verifyAccessToken(deps, ctx, token);
  return verified ? { grantId: verified.grantId, clientId: verified.clientId } : undefined;
}
