import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { RequestContext } from '../../../../contracts/events/metadata.js';
import type { PasswordGrant } from '../../../../contracts/grants/index.js';
import { Login } from '../../../../contracts/messages/authn.js';
import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import type { TokenResponse } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { call } from '../../../../infra/bus/typed.js';
import type { GrantSubject } from '../../domain/grant/state.js';
import { decideOnGrant } from '../grant-stream.js';
import { refusedByUserWatermark } from '../user-watermark.js';
import { firstRefreshToken, refreshTokenPolicy } from '../refresh-tokens.js';
import type { TokenIssuerDeps } from '../token-issuer.deps.js';
import { grantedScope } from './scopes.js';
import { planAccessToken, signTokenResponse } from './sign-tokens.js';


/**
 * Under the gateway's default wait for the whole token request (IDP_REQUEST_TIMEOUT_MS, 5 s), so a
 * slow check is answered, not dropped; with a shorter gateway wait the client sees 503 first.
 */
const LOGIN_TIMEOUT_MS = 4000;

/**
 * The resource owner password credentials grant (RFC 6749 §4.3). authn checks the credentials
 * exactly as for the login form (argon2 once, the throttle, the attempt recorded on the user's
 * stream) but starts no browser session; any failure, throttled or not, is `invalid_grant`
 * (§5.2), the same answer for an unknown user. Then one event on a new grant stream: the access
 * token, an ID token with `openid`, and a refresh token per the refresh policy.
 */
export async function grantPassword(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  client: ClientView,
  request: z.infer<typeof PasswordGrant.request>,
  source: string | null = null,
): Promise<TokenResponse> {
  const scope = grantedScope(client, request.scope, { user: true });
  const audience = deps.resourceServers.check(request.resources);
  const login = await call(
    deps.bus,
    Login,
    { ctx, username: request.username, password: request.password, clientId: client.clientId, startSession: false, source },
    { timeoutMs: LOGIN_TIMEOUT_MS },
  );
  if (!login.authenticated) throw new OAuthError('invalid_grant', 'invalid username or password');

  const grantId = randomUUID();
  const now = deps.clock();
  // authn refuses a disabled user's login; a disable that committed meanwhile refuses the grant here.
  if (await refusedByUserWatermark(deps, ctx, { sub: login.sub, clientId: client.clientId }, Math.floor(now.getTime() / 1000))) {
    throw new OAuthError('invalid_grant', 'invalid username or password', { detail: 'user under the watermark' });
  }
  const planned = planAccessToken(deps, grantId, now);
  const authentication = { authTime: login.authTime, acr: login.acr, amr: login.amr };
  const subject: GrantSubject = { clientId: client.clientId, sub: login.sub, authentication, scope, audience };
  const refresh = refreshTokenPolicy(client, scope) ? firstRefreshToken(grantId, now, deps.minter.lifetimes) : undefined;
  const response = await signTokenResponse(deps, ctx, { subject, scope, planned, refreshToken: refresh?.token, idTokenAlg: client.idTokenSignedResponseAlg });
  const { decision } = await decideOnGrant(deps, ctx, grantId, {
    type: 'grant_password',
    grantId,
    clientId: client.clientId,
    sub: login.sub,
    scope,
    audience: audience.length > 0 ? audience : [deps.issuer],
    authentication,
    tokens: { accessTokenIdHash: planned.idHash, accessTokenExpiresAt: planned.expiresAt, refreshToken: refresh?.issue ?? null },
  }, { newStream: true });
  if (decision.rejection) throw decision.rejection;
  return response;
}
