import type { z } from 'zod';
import type { RequestContext } from '../../../../contracts/events/metadata.js';
import type { RefreshTokenGrant } from '../../../../contracts/grants/index.js';
import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import type { TokenResponse } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { constantTimeEqual, sha256Hex } from '../../../../infra/crypto/secrets.js';
import type { GrantWithTokens } from '../../domain/grant/state.js';
import { refreshedScope, RefreshTokenReused, type UseRefreshTokenCommand } from '../../domain/refresh-token/refresh-token.js';
import { refusedByClientWatermark } from '../client-watermark.js';
import { decideOnGrant, decideOnRefreshEpoch, loadGrant, loadRefreshEpoch } from '../grant-stream.js';
import { formatRefreshToken, idleExpiry, parseRefreshToken, successorSecret, type RefreshTokenParts } from '../refresh-tokens.js';
import type { TokenIssuerDeps } from '../token-issuer.deps.js';
import { planAccessToken, signTokenResponse, wantsIdToken } from './sign-tokens.js';

const invalidGrant = (detail: string) => new OAuthError('invalid_grant', 'the refresh token is invalid, expired or revoked', { detail });

/**
 * Refreshing (RFC 6749 §6) with rotation on every use (RFC 9700 §4.14.2). The presented token is
 * generation g of its grant: the grant's stream says whether the lineage lives and for whom, the
 * record that issued g holds its hash, and g's own epoch stream decides its one use. Three short
 * reads and one append, however many rotations came before.
 *
 * A rotated token presented again is reuse: `invalid_grant`, and the whole grant is revoked. A
 * client may opt into a grace window of a few seconds in which the same rotated token gets back
 * the same successor (for a response lost on a flaky network).
 */
export async function refreshTokens(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  client: ClientView,
  request: z.infer<typeof RefreshTokenGrant.request>,
): Promise<TokenResponse> {
  const found = await findRefreshToken(deps, ctx, request.refreshToken);
  if (!found) throw invalidGrant('no such refresh token');
  const { grant, presented, issued, presentedHash } = found;
  if (grant.subject.clientId !== client.clientId) throw invalidGrant('refresh token issued to another client');
  // "Revoke every token of this client" (or its deletion) ends the lineages begun before it.
  const lineageBegan = Math.floor(Date.parse(grant.lineage.refreshToken?.issuedAt ?? '1970-01-01T00:00:00.000Z') / 1000);
  if (await refusedByClientWatermark(deps, ctx, client.clientId, lineageBegan)) throw invalidGrant('lineage older than the client watermark');
  const scope = refreshedScope(grant.subject.scope, request.scope);

  const now = deps.clock();
  const successor: RefreshTokenParts = {
    grantId: presented.grantId,
    generation: presented.generation + 1,
    secret: successorSecret(deps.refreshTokenKey, ctx.tenant, presented),
  };
  const absoluteExpiresAt = grant.lineage.refreshToken?.absoluteExpiresAt ?? now.toISOString();
  const successorIdleExpiresAt = idleExpiry(now, deps.minter.lifetimes.refreshTokenIdleSeconds, absoluteExpiresAt);
  const planned = planAccessToken(deps, presented.grantId, now);
  let response: TokenResponse | undefined;

  const { decision } = await decideOnRefreshEpoch(deps, ctx, presented.grantId, presented.generation, async (epoch) => {
    // Once rotated, only a use inside the grace window gets tokens, and only if the successor has
    // not been used itself (then the one who holds it is the legitimate party, and this is reuse).
    const successorUsed = epoch.status === 'rotated' && (await loadRefreshEpoch(deps, ctx, presented.grantId, successor.generation)).status === 'rotated';
    const mayGetTokens = epoch.status === 'unused' || (withinGrace(epoch, client, now) && !successorUsed);
    response = mayGetTokens
      ? await signTokenResponse(deps, ctx, { subject: grant.subject, scope, planned, refreshToken: formatRefreshToken(successor) })
      : undefined;
    const command: UseRefreshTokenCommand = {
      type: 'use_refresh_token',
      grant,
      generation: presented.generation,
      issued,
      presentedHash,
      clientId: client.clientId,
      scope,
      now,
      graceSeconds: client.refreshTokenReuseGraceSeconds,
      successorUsed,
      tokens: {
        accessTokenIdHash: planned.idHash,
        accessTokenExpiresAt: planned.expiresAt,
        idTokenIssued: wantsIdToken(grant.subject, scope),
        successor: { tokenHash: sha256Hex(successor.secret), idleExpiresAt: successorIdleExpiresAt },
      },
    };
    return command;
  });
  if (decision.rejection instanceof RefreshTokenReused) {
    // RFC 9700 §4.14.2: the lineage is compromised; every access and refresh token of it goes.
    const revocation = await decideOnGrant(deps, ctx, presented.grantId, {
      type: 'detect_refresh_reuse',
      clientId: client.clientId,
      generation: presented.generation,
    });
    if (revocation.decision.rejection) throw revocation.decision.rejection;
  }
  if (decision.rejection) throw decision.rejection;
  if (!response) throw new Error('a refresh was accepted without signed tokens');
  return response;
}

/**
 * A refresh token of this server, checked against the record that issued it: its grant (live or
 * revoked), its generation, and how that generation was issued. Undefined for garbage, an unknown
 * grant or generation, or a wrong secret (a guess learns nothing, not even about scopes).
 */
export async function findRefreshToken(deps: TokenIssuerDeps, ctx: RequestContext, token: string) {
  const presented = parseRefreshToken(token);
  if (!presented) return undefined;
  const grant = await loadGrant(deps, ctx, presented.grantId);
  if (grant.status !== 'active' || grant.lineage.refreshToken === null) return undefined;
  const issued = await issuedGeneration(deps, ctx, grant, presented.generation);
  const presentedHash = sha256Hex(presented.secret);
  if (!issued || !constantTimeEqual(presentedHash, issued.tokenHash)) return undefined;
  return { grant, presented, issued, presentedHash };
}

/** How generation g was issued: by the grant itself (g = 0) or by the rotation of g - 1. */
async function issuedGeneration(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  grant: GrantWithTokens,
  generation: number,
): Promise<{ tokenHash: string; idleExpiresAt: string; issuedAt: string } | undefined> {
  if (generation === 0) return grant.lineage.refreshToken ?? undefined;
  const previous = await loadRefreshEpoch(deps, ctx, grant.grantId, generation - 1);
  if (previous.status !== 'rotated' || previous.successor.generation !== generation) return undefined;
  return { ...previous.successor, issuedAt: previous.rotatedAt };
}

function withinGrace(epoch: { status: string; rotatedAt?: string }, client: ClientView, now: Date): boolean {
  const grace = client.refreshTokenReuseGraceSeconds;
  return epoch.rotatedAt !== undefined && grace > 0 && now.getTime() < Date.parse(epoch.rotatedAt) + grace * 1000;
}
