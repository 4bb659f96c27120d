import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { RequestContext } from '../../../../contracts/events/metadata.js';
import type { AuthorizationCodeGrant } from '../../../../contracts/grants/index.js';
import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import type { TokenResponse } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { sha256Hex } from '../../../../infra/crypto/secrets.js';
import type { RedeemCodeCommand } from '../../domain/grant/decide.js';
import { codeSubject, type GrantState, type IssuedCode } from '../../domain/grant/state.js';
import { refusalOf } from '../revocation-checks.js';
import { decideOnGrant, splitGrantSecret } from '../grant-stream.js';
import { firstRefreshToken, refreshTokenPolicy } from '../refresh-tokens.js';
import type { TokenIssuerDeps } from '../token-issuer.deps.js';
import { planAccessToken, signTokenResponse } from './sign-tokens.js';

/** RFC 7636 §4.1: 43-128 characters of [A-Z a-z 0-9 - . _ ~]. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * The authorization code grant (RFC 6749 §4.1.3, §4.1.4; RFC 7636 §4.5-4.6), for a client the
 * gateway has already authenticated. One stream read, one decision, one append. The tokens are
 * signed before the append, so that committing the redemption is the last thing that can fail:
 * once `authorization_code.redeemed` is in the log, the tokens exist.
 */
export async function redeemAuthorizationCode(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  client: ClientView,
  request: z.infer<typeof AuthorizationCodeGrant.request>,
): Promise<TokenResponse> {
  const parts = splitGrantSecret(request.code);
  if (!parts) throw new OAuthError('invalid_grant', 'the authorization code is invalid, expired or already used');
  if (request.codeVerifier !== undefined && !CODE_VERIFIER.test(request.codeVerifier)) {
    throw new OAuthError('invalid_grant', 'code_verifier is malformed (RFC 7636 §4.1)');
  }
  const now = deps.clock();
  const planned = planAccessToken(deps, parts.grantId, now);
  let tokens: TokenResponse | undefined;

  const { decision } = await decideOnGrant(deps, ctx, parts.grantId, async (state: GrantState): Promise<RedeemCodeCommand> => {
    if (state.status === 'code_issued' && state.code.clientId === client.clientId) {
      // A code issued before the client's watermark ("revoke all its tokens") is one of them.
      const issuedAt = Math.floor(Date.parse(state.code.expiresAt) / 1000) - deps.minter.lifetimes.codeSeconds;
      // A code of a user disabled or forgotten since (or before an enabling) is refused the same way.
      const refusal = await refusalOf(deps, ctx, { clientId: client.clientId, user: { sub: codeSubject(state.code).sub, clientId: client.clientId }, began: issuedAt });
      if (refusal) {
        const detail = refusal === 'client_watermark' ? 'code older than the client watermark' : 'code under the user watermark';
        throw new OAuthError('invalid_grant', 'the authorization code is invalid, expired or already used', { detail });
      }
    }
    const refresh = state.status === 'code_issued' && refreshTokenPolicy(client, state.code.scope)
      ? firstRefreshToken(parts.grantId, now, deps.minter.lifetimes)
      : undefined;
    // Only a code still waiting to be redeemed gets tokens; every other state is refused below.
    tokens = state.status === 'code_issued' ? await signCodeTokens(deps, ctx, state.code, planned, refresh?.token, client.idTokenSignedResponseAlg) : undefined;
    return {
      type: 'redeem_code',
      codeHash: sha256Hex(parts.secret),
      clientId: client.clientId,
      redirectUri: request.redirectUri,
      codeVerifierS256:
        request.codeVerifier === undefined
          ? undefined
          : createHash('sha256').update(request.codeVerifier, 'ascii').digest('base64url'),
      now,
      tokens: { accessTokenIdHash: planned.idHash, accessTokenExpiresAt: planned.expiresAt, refreshToken: refresh?.issue ?? null },
    };
  });
  if (decision.rejection) throw decision.rejection;
  if (!tokens) throw new Error('a redemption was accepted without signed tokens');
  return tokens;
}

function signCodeTokens(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  code: IssuedCode,
  planned: ReturnType<typeof planAccessToken>,
  refreshToken: string | undefined,
  idTokenAlg: string,
): Promise<TokenResponse> {
  return signTokenResponse(deps, ctx, {
    subject: codeSubject(code),
    scope: code.scope,
    planned,
    nonce: code.nonce,
    refreshToken,
    idTokenAlg,
  });
}
