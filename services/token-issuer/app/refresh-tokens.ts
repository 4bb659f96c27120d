import { createHmac } from 'node:crypto';
import type { ClientView } from '../../../contracts/messages/client-registry.js';
import { randomSecret, sha256Hex } from '../../../infra/crypto/secrets.js';
import type { RefreshTokenIssue } from '../domain/grant/state.js';
import type { TokenLifetimes } from './token-minter.js';

/**
 * Refresh tokens are `<grant id>.<generation>.<secret>` (DESIGN §3 with the rotation epoch in the
 * middle): the grant names the lineage, the generation names the epoch stream that records the
 * token's one use (contracts/events/refresh-token.ts), and only the secret's SHA-256 is logged.
 */
export interface RefreshTokenParts {
  grantId: string;
  generation: number;
  secret: string;
}

const REFRESH_TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(0|[1-9][0-9]{0,8})\.([A-Za-z0-9_-]{43})$/;

export function parseRefreshToken(value: string): RefreshTokenParts | null {
  const match = REFRESH_TOKEN.exec(value);
  if (!match) return null;
  return { grantId: match[1]!, generation: Number(match[2]), secret: match[3]! };
}

export const formatRefreshToken = (parts: RefreshTokenParts) => `${parts.grantId}.${parts.generation}.${parts.secret}`;

/**
 * The secret of generation g+1, derived from generation g's secret under a server key (HMAC):
 * only who holds generation g can learn it, nothing is stored, and the same rotated token asked
 * again inside a client's grace window yields the same successor.
 */
export function successorSecret(key: Buffer, tenant: string, current: RefreshTokenParts): string {
  return createHmac('sha256', key)
    .update(`${tenant}:${current.grantId}:${current.generation + 1}:${current.secret}`)
    .digest('base64url');
}

/**
 * The refresh policy. A refresh token is issued only to a client that registered the
 * `refresh_token` grant type (RFC 7591 §2), and then:
 * - for an OpenID Connect authentication (scope `openid`), only when `offline_access` was granted:
 *   the user consented to access while away (OIDC Core §11);
 * - for a plain OAuth authorization (no `openid`), by that client policy alone.
 * Client credentials never get one (RFC 6749 §4.4.3).
 */
export function refreshTokenPolicy(client: Pick<ClientView, 'grantTypes'>, scope: string): boolean {
  if (!client.grantTypes.includes('refresh_token')) return false;
  const scopes = scope.split(' ');
  return scopes.includes('offline_access') || !scopes.includes('openid');
}

/** Generation 0 of a new grant's refresh tokens: the token, and what the grant records of it. */
export function firstRefreshToken(
  grantId: string,
  now: Date,
  lifetimes: Pick<TokenLifetimes, 'refreshTokenIdleSeconds' | 'refreshTokenAbsoluteSeconds'>,
): { token: string; issue: RefreshTokenIssue } {
  const secret = randomSecret();
  const absoluteExpiresAt = new Date(now.getTime() + lifetimes.refreshTokenAbsoluteSeconds * 1000);
  return {
    token: formatRefreshToken({ grantId, generation: 0, secret }),
    issue: {
      tokenHash: sha256Hex(secret),
      issuedAt: now.toISOString(),
      idleExpiresAt: idleExpiry(now, lifetimes.refreshTokenIdleSeconds, absoluteExpiresAt.toISOString()),
      absoluteExpiresAt: absoluteExpiresAt.toISOString(),
    },
  };
}

/** When a refresh token issued now expires unused: its idle lifetime, capped by the absolute one. */
export function idleExpiry(now: Date, idleSeconds: number, absoluteExpiresAt: string): string {
  return new Date(Math.min(now.getTime() + idleSeconds * 1000, Date.parse(absoluteExpiresAt))).toISOString();
}
