import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { SessionView } from '../../../contracts/messages/authn.js';
import type { ReplyOf, RequestOf } from '../../../contracts/messages/define.js';
import type { IssueAuthorization } from '../../../contracts/messages/token-issuer.js';
import { issuesAccessToken, issuesCode, issuesIdToken } from '../../../contracts/response-types.js';
import { randomSecret, sha256Hex } from '../../../infra/crypto/secrets.js';
import type { GrantImplicitCommand, IssueCodeCommand } from '../domain/grant/decide.js';
import { decideOnGrant } from './grant-stream.js';
import { planAccessToken } from './grants/sign-tokens.js';
import { idTokenUserClaims } from './id-token-claims.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';
import { verifiedAuthorization } from './verify-authorization.js';
import { refusedByUserWatermark } from './user-watermark.js';
import { OAuthError } from '../../../contracts/oauth-error.js';

type Request = RequestOf<typeof IssueAuthorization>;
type Reply = ReplyOf<typeof IssueAuthorization>;
/** The request once verified: its user is the session authn resolved, not a token. */
type VerifiedRequest = Omit<Request, 'sessionToken'>;

/**
 * The authorization endpoint's response for an authenticated, consenting user: the grant starts
 * here, with one event. A code (RFC 6749 §4.1.2) is `<grant id>.<secret>` and only the secret's
 * SHA-256 is logged; the implicit and hybrid flows' tokens (OIDC Core §3.2.2.5, §3.3.2.5) are
 * signed before the append, so that committing the grant is the last thing that can fail.
 *
 * The grant id is the pending request's: a request completed once (or twice at once) is refused
 * the second time, because the grant's stream exists by then.
 */
export async function issueAuthorization(deps: TokenIssuerDeps, given: RequestContext, request: Request): Promise<Reply> {
  const { sessionToken: _sessionToken, ...rest } = request;
  const { client, session, ctx } = await verifiedAuthorization(deps, given, request);
  // No new grant for a disabled or forgotten user, nor from a session begun before a watermark
  // (authn refuses to resolve such a session already; this holds whatever it answered).
  if (await refusedByUserWatermark(deps, ctx, { sub: session.sub, clientId: request.clientId }, session.authTime)) {
    throw new OAuthError('login_required', 'the user must log in', { detail: 'issue_authorization: the session is under the user watermark' });
  }
  return issueForSession(deps, ctx, rest, session, client.idTokenSignedResponseAlg);
}

/**
 * Issues for a session and a request already verified (verify-authorization.ts): the grant's
 * first event, and the response. Exported for tests of the grants that follow.
 */
export async function issueForSession(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  request: VerifiedRequest,
  session: SessionView,
  /** The client's `id_token_signed_response_alg`. */
  idTokenAlg = 'RS256',
): Promise<Reply> {
  const { grantId, responseType } = request;
  const now = deps.clock();
  const secret = issuesCode(responseType) ? randomSecret() : undefined;
  const code = secret !== undefined ? `${grantId}.${secret}` : undefined;
  const planned = issuesAccessToken(responseType) ? planAccessToken(deps, grantId, now) : undefined;

  const accessToken = planned
    ? await deps.minter.accessToken(ctx, {
        sub: session.sub,
        clientId: request.clientId,
        scope: request.scope,
        jti: planned.jti,
        authTime: session.authTime,
        iat: planned.iat,
      })
    : undefined;
  const idToken = issuesIdToken(responseType)
    ? await deps.minter.idToken(ctx, {
        sub: session.sub,
        clientId: request.clientId,
        nonce: request.nonce,
        authTime: session.authTime,
        acr: session.acr,
        amr: session.amr,
        sid: session.sessionId,
        accessToken,
        code,
        userClaims: await idTokenUserClaims(deps, ctx, {
          sub: session.sub,
          scope: request.scope,
          // OIDC Core §5.4: a code will bring an access token too; only `id_token` alone brings none.
          scopeClaims: accessToken === undefined && code === undefined,
          claims: request.claims,
          claimsLocales: request.claimsLocales,
        }),
        iat: Math.floor(now.getTime() / 1000),
        alg: idTokenAlg,
      })
    : undefined;

  const frontChannelAccessToken = planned ? { accessTokenIdHash: planned.idHash, accessTokenExpiresAt: planned.expiresAt } : null;
  const authentication = { authTime: session.authTime, acr: session.acr, amr: session.amr };
  const common = {
    grantId,
    clientId: request.clientId,
    sub: session.sub,
    sessionId: session.sessionId,
    redirectUri: request.redirectUri,
    scope: request.scope,
    ...authentication,
    ...(request.claims !== undefined ? { claims: request.claims } : {}),
    ...(request.claimsLocales !== undefined ? { claimsLocales: request.claimsLocales } : {}),
  };
  const command: IssueCodeCommand | GrantImplicitCommand =
    secret !== undefined
      ? {
          type: 'issue_code',
          ...common,
          responseType: responseType as IssueCodeCommand['responseType'],
          ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
          ...(request.codeChallenge !== undefined ? { codeChallenge: request.codeChallenge, codeChallengeMethod: 'S256' as const } : {}),
          codeHash: sha256Hex(secret),
          expiresAt: new Date(now.getTime() + deps.minter.lifetimes.codeSeconds * 1000).toISOString(),
          frontChannel: { idTokenIssued: idToken !== undefined, accessToken: frontChannelAccessToken },
        }
      : {
          type: 'grant_implicit',
          ...common,
          responseType: responseType as GrantImplicitCommand['responseType'],
          accessToken: frontChannelAccessToken,
        };
  // The grant's stream is new but for a request completed twice: that append fails, and the retry reads and refuses.
  const { decision } = await decideOnGrant(deps, ctx, grantId, command, { newStream: true });
  if (decision.rejection) throw decision.rejection;
  return {
    ...(code !== undefined ? { code } : {}),
    ...(accessToken !== undefined
      ? { access_token: accessToken, token_type: 'Bearer' as const, expires_in: deps.minter.lifetimes.accessTokenSeconds }
      : {}),
    ...(idToken !== undefined ? { id_token: idToken } : {}),
  };
}
