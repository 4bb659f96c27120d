import type { RequestContext } from '../../../contracts/events/metadata.js';
import { constantTimeEqual, sha256Hex } from '../../../infra/crypto/secrets.js';
import type { GrantWithTokens } from '../domain/grant/state.js';
import { loadGrant, loadRefreshEpoch } from './grant-stream.js';
import { parseRefreshToken, type RefreshTokenParts } from './refresh-tokens.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/** A presented refresh token of this server, checked against the record that issued it. */
export interface FoundRefreshToken {
  /** Its grant, live or revoked. */
  grant: GrantWithTokens;
  presented: RefreshTokenParts;
  /** How its generation was issued. */
  issued: { tokenHash: string; idleExpiresAt: string; issuedAt: string };
  presentedHash: string;
}

/**
 * Finds a refresh token: its grant, its generation, and how that generation was issued (by the
 * grant for generation 0, by the rotation of g - 1 after). Undefined for garbage, an unknown grant
 * or generation, or a wrong secret: a guess learns nothing, not even about scopes. Two or three
 * short stream reads, however long the lineage.
 */
export async function findRefreshToken(
  deps: Pick<TokenIssuerDeps, 'store'>,
  ctx: RequestContext,
  token: string,
): Promise<FoundRefreshToken | undefined> {
  const presented = parseRefreshToken(token);
  if (!presented) return undefined;
  const grant = await loadGrant(deps, ctx, presented.grantId);
  if (grant.status !== 'active' || grant.lineage.refreshToken === null) return undefined;
  const issued = await issuedGeneration(deps, ctx, grant, presented.generation);
  const presentedHash = sha256Hex(presented.secret);
  if (!issued || !constantTimeEqual(presentedHash, issued.tokenHash)) return undefined;
  return { grant, presented, issued, presentedHash };
}

async function issuedGeneration(
  deps: Pick<TokenIssuerDeps, 'store'>,
  ctx: RequestContext,
  grant: GrantWithTokens,
  generation: number,
): Promise<FoundRefreshToken['issued'] | undefined> {
  if (generation === 0) return grant.lineage.refreshToken ?? undefined;
  const previous = await loadRefreshEpoch(deps, ctx, grant.grantId, generation - 1);
  if (previous.status !== 'rotated' || previous.successor.generation !== generation) return undefined;
  return { ...previous.successor, issuedAt: previous.rotatedAt };
}

/** When the lineage began (epoch seconds): what a client watermark is compared with. */
export function lineageBegan(grant: GrantWithTokens): number {
  return Math.floor(Date.parse(grant.lineage.refreshToken!.issuedAt) / 1000);
}
