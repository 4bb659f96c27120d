import type { ClaimsRequest } from '../../../contracts/claims.js';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import { UserClaims } from '../../../contracts/messages/authn.js';
import { call } from '../../../infra/bus/typed.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * The user claims an ID token carries, asked of authn only when there are any to carry:
 * - OIDC Core §5.4: when no access token is ever issued (response type `id_token`), the claims
 *   of the granted scopes, since the client cannot ask userinfo for them;
 * - OIDC Core §5.5: the claims the `claims` request parameter asked for in its `id_token` member,
 *   in the languages of `claims_locales` (§5.2).
 */
export async function idTokenUserClaims(
  deps: Pick<TokenIssuerDeps, 'bus'>,
  ctx: RequestContext,
  args: { sub: string; scope: string; scopeClaims: boolean; claims?: ClaimsRequest | undefined; claimsLocales?: string[] | undefined },
): Promise<Record<string, unknown> | undefined> {
  const requested = args.claims?.id_token;
  if (!args.scopeClaims && (requested === undefined || Object.keys(requested).length === 0)) return undefined;
  const { claims } = await call(deps.bus, UserClaims, {
    ctx,
    sub: args.sub,
    scopes: args.scopeClaims ? args.scope.split(' ') : [],
    ...(requested !== undefined ? { requested } : {}),
    ...(args.claimsLocales !== undefined ? { locales: args.claimsLocales } : {}),
  });
  return claims ?? undefined;
}
