import type { RequestContext } from '../../../../contracts/events/metadata.js';
import type { TokenResponse } from '../../../../contracts/messages/token-issuer.js';
import { randomSecret, sha256Hex } from '../../../../infra/crypto/secrets.js';
import type { GrantSubject } from '../../domain/grant/state.js';
import { idTokenUserClaims } from '../id-token-claims.js';
import type { TokenIssuerDeps } from '../token-issuer.deps.js';

/** The access token of a grant about to be recorded: its `jti` is `<grant id>.<secret>`. */
export interface PlannedAccessToken {
  jti: string;
  /** SHA-256 of the jti's secret half: what the grant's events keep. */
  idHash: string;
  iat: number;
  expiresAt: string;
}

export function planAccessToken(deps: Pick<TokenIssuerDeps, 'minter'>, grantId: string, now: Date): PlannedAccessToken {
  const secret = randomSecret();
  const iat = Math.floor(now.getTime() / 1000);
  return {
    jti: `${grantId}.${secret}`,
    idHash: sha256Hex(secret),
    iat,
    expiresAt: new Date((iat + deps.minter.lifetimes.accessTokenSeconds) * 1000).toISOString(),
  };
}

/**
 * Signs the tokens of one token response (RFC 6749 §5.1): the access token, and an ID token when
 * `openid` is in the scope and a user authenticated (OIDC Core §3.1.3.3, §12.2).
 */
export async function signTokenResponse(
  deps: Pick<TokenIssuerDeps, 'minter' | 'bus'>,
  ctx: RequestContext,
  args: {
    subject: GrantSubject;
    scope: string;
    planned: PlannedAccessToken;
    /** Only on the ID token of the authorization code flow (OIDC Core §3.1.3.6); never on a refresh (§12.2). */
    nonce?: string | undefined;
    refreshToken?: string | undefined;
    /** The client's `id_token_signed_response_alg`. */
    idTokenAlg?: string | undefined;
  },
): Promise<TokenResponse> {
  const { subject, scope, planned } = args;
  const accessToken = await deps.minter.accessToken(ctx, {
    sub: subject.sub,
    clientId: subject.clientId,
    scope,
    jti: planned.jti,
    authTime: subject.authentication?.authTime,
    iat: planned.iat,
    audience: subject.audience,
  });
  const idToken =
    wantsIdToken(subject, scope) && subject.authentication
      ? await deps.minter.idToken(ctx, {
          sub: subject.sub,
          clientId: subject.clientId,
          nonce: args.nonce,
          authTime: subject.authentication.authTime,
          acr: subject.authentication.acr,
          amr: subject.authentication.amr,
          sid: subject.authentication.sessionId,
          accessToken,
          // OIDC Core §5.5: what the authorization's `claims` request asked the ID token to carry.
          userClaims: await idTokenUserClaims(deps, ctx, {
            sub: subject.sub,
            scope,
            scopeClaims: false,
            claims: subject.claims,
            claimsLocales: subject.claimsLocales,
          }),
          iat: planned.iat,
          alg: args.idTokenAlg,
        })
      : undefined;
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: deps.minter.lifetimes.accessTokenSeconds,
    ...(scope !== '' ? { scope } : {}),
    ...(args.refreshToken !== undefined ? { refresh_token: args.refreshToken } : {}),
    ...(idToken !== undefined ? { id_token: idToken } : {}),
  };
}

export function wantsIdToken(subject: GrantSubject, scope: string): boolean {
  return subject.authentication !== undefined && scope.split(' ').includes('openid');
}
