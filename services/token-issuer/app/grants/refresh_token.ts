import type { z } from 'zod';
import type { RequestContext } from '../../../../contracts/events/metadata.js';
import type { RefreshTokenGrant } from '../../../../contracts/grants/index.js';
import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import type { TokenResponse } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { sha256Hex } from '../../../../infra/crypto/secrets.js';
import type { GrantSubject } from '../../domain/grant/state.js';
import { refreshedScope, RefreshTokenReused, useOutcome, type UseRefreshTokenCommand } from '../../domain/refresh-token/refresh-token.js';
import { grantRevokedNow } from '../access-token.js';
import { refusalOf } from '../revocation-checks.js';
import { decideOnGrant, decideOnRefreshEpoch, loadRefreshEpoch } from '../grant-stream.js';
import { findRefreshToken, lineageBegan } from '../refresh-token-lookup.js';
import { formatRefreshToken, idleExpiry, refreshTokenPolicy, successorSecret, type RefreshTokenParts } from '../refresh-tokens.js';
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
 * the same successor once (for a response lost on a flaky network).
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
  // "Revoke every token of this client" (or its deletion) ends the lineages begun before it; a
  // disabled or forgotten user's lineages end too, and one begun before an enabling stays ended.
  const refusal = await refusalOf(deps, ctx, { clientId: client.clientId, user: grant.subject, began: lineageBegan(grant) });
  if (refusal === 'client_watermark') throw invalidGrant('lineage older than the client watermark');
  if (refusal === 'user_watermark') throw invalidGrant('lineage under the user watermark');

  const now = deps.clock();
  const successor: RefreshTokenParts = {
    grantId: presented.grantId,
    generation: presented.generation + 1,
    secret: successorSecret(deps.refreshTokenKey, ctx.tenant, presented),
  };
  const successorIdleExpiresAt = idleExpiry(now, deps.minter.lifetimes.refreshTokenIdleSeconds, grant.lineage.refreshToken!.absoluteExpiresAt);
  const planned = planAccessToken(deps, presented.grantId, now);
  let response: TokenResponse | undefined;

  const { decision } = await decideOnRefreshEpoch(deps, ctx, presented.grantId, presented.generation, async (epoch) => {
    const successorUsed = epoch.status === 'rotated' && (await loadRefreshEpoch(deps, ctx, presented.grantId, successor.generation)).status === 'rotated';
    const graceSeconds = client.refreshTokenReuseGraceSeconds;
    // Only a use that will get tokens is checked for scope and signed: a reuse is reuse, whatever it asks.
    const getsTokens = useOutcome(epoch, { now, graceSeconds, successorUsed }) !== 'reuse';
    const scope = getsTokens ? refreshedScopeFor(grant.subject, client, request) : grant.subject.scope;
    const subject = getsTokens ? { ...grant.subject, audience: narrowedAudience(grant.subject, request.resources) } : grant.subject;
    response = getsTokens ? await signTokenResponse(deps, ctx, { subject, scope, planned, refreshToken: formatRefreshToken(successor), idTokenAlg: client.idTokenSignedResponseAlg }) : undefined;
    const command: UseRefreshTokenCommand = {
      type: 'use_refresh_token',
      grant,
      generation: presented.generation,
      issued,
      presentedHash,
      clientId: client.clientId,
      scope,
      now,
      graceSeconds,
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
  // A revocation that committed while this refresh was deciding ends it too: answered only once
  // the grant is known to be live after the rotation (a later revocation comes after the refresh).
  if (await grantRevokedNow(deps, ctx, presented.grantId)) throw invalidGrant('grant revoked during the refresh');
  return response;
}

/**
 * The refreshed scope, and whether the client may still hold a refresh token for it: the client's
 * registration today (an operator may have removed a scope or offline_access) bounds the grant.
 */
function refreshedScopeFor(subject: GrantSubject, client: ClientView, request: { scope?: string | undefined }): string {
  const scope = refreshedScope(subject.scope, client.scope, request.scope);
  const stillOffline = refreshedScope(subject.scope, client.scope, undefined);
  if (!refreshTokenPolicy(client, stillOffline)) throw invalidGrant('the client may no longer hold a refresh token for this grant');
  return scope;
}

/** RFC 8707 §2.2: a refresh may ask for a subset of the grant's resources, never another one. */
function narrowedAudience(subject: GrantSubject, resources: readonly string[]): string[] {
  if (resources.length === 0) return subject.audience;
  if (resources.some((resource) => !subject.audience.includes(resource))) {
    throw new OAuthError('invalid_target', 'the resource was not granted');
  }
  return [...resources];
}
