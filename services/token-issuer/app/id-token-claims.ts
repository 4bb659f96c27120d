import type { RequestContext } from '../../../contracts/events/metadata.js';
import { UserinfoClaims } from '../../../contracts/messages/authn.js';
import { call } from '../../../infra/bus/typed.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * The user claims an ID token carries (OIDC Core §5.4): when no access token is issued with it
 * (response type `id_token`), the claims of the granted scopes, since the client has no way to
 * ask userinfo for them. Otherwise none: they are userinfo's to give.
 */
export async function idTokenUserClaims(
  deps: Pick<TokenIssuerDeps, 'bus'>,
  ctx: RequestContext,
  args: { sub: string; scope: string; accessTokenIssued: boolean },
): Promise<Record<string, unknown> | undefined> {
  if (args.accessTokenIssued) return undefined;
  const { claims } = await call(deps.bus, UserinfoClaims, { ctx, sub: args.sub, scopes: args.scope.split(' ') });
  return claims ?? undefined;
}
