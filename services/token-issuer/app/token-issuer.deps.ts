import type { Bus } from '../../../infra/bus/port.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import type { Keyring } from './keyring.js';
import type { ResourceServers } from './resource-servers.js';
import type { TokenMinter } from './token-minter.js';
import type { VerifiedTokenCache } from './verified-token-cache.js';

/**
 * Whether the token-issuer's projections can be trusted to hold every revocation: its projector
 * is live and the store's checkpoint (read with the lookup) has not gone back below what the
 * projector applied. When not, a revocation check asks the grant's own stream instead.
 */
export interface ProjectionFreshness {
  current(checkpoint: number): boolean;
}

export interface TokenIssuerDeps {
  store: EventStore;
  projections: ProjectionStore;
  /**
   * The client-registry's namespace, read for the client watermarks it writes through at once
   * (the embedded mode: the same store as `projections`). Read-only (README, "Security").
   */
  clientWatermarks?: ProjectionStore;
  /**
   * authn's namespace, read for the user watermarks it writes through at once (user.disabled,
   * user.enabled, user.forgotten); embedded: the same store as `projections`. Read-only.
   */
  userWatermarks?: ProjectionStore;
  projectionFreshness: ProjectionFreshness;
  keyring: Keyring;
  minter: TokenMinter;
  issuer: string;
  /** HMAC key deriving each refresh token's successor (refresh-tokens.ts); deriveKey(kek, 'refresh-tokens'). */
  refreshTokenKey: Buffer;
  /** RFC 8707: the audiences a `resource` may name, and which client serves each. */
  resourceServers: ResourceServers;
  /**
   * To ask authn (the password grant's credentials, the session of an authorization) and
   * client-registry (the client's authentication and registration): app/peers.ts.
   */
  bus: Bus;
  /** Access tokens already verified (verified-token-cache.ts); absent: every one is verified each time. */
  verifiedTokens?: VerifiedTokenCache;
  /** Deadline of those questions (peers.ts); default PEER_TIMEOUT_MS. */
  peerTimeoutMs?: number;
  clock: () => Date;
}
