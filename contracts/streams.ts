import type { ServiceName } from './events/metadata.js';
import type { TenantId } from './tenant.js';

/**
 * Stream names: `<aggregate>-<tenant>-<id>` (DESIGN §3, §4). The tenant never contains '-',
 * so the aggregate and tenant can always be read back from a name.
 */
export const streams = {
  client: (tenant: TenantId, clientId: string) => `client-${tenant}-${clientId}`,
  user: (tenant: TenantId, sub: string) => `user-${tenant}-${sub}`,
  username: (tenant: TenantId, usernameDigest: string) => `username-${tenant}-${usernameDigest}`,
  /** One successful login that changed nothing on the user's stream (contracts/events/authentication.ts). */
  authentication: (tenant: TenantId, authenticationId: string) => `authentication-${tenant}-${authenticationId}`,
  session: (tenant: TenantId, sessionId: string) => `session-${tenant}-${sessionId}`,
  consent: (tenant: TenantId, sub: string, clientId: string) => `consent-${tenant}-${sub}.${clientId}`,
  grant: (tenant: TenantId, grantId: string) => `grant-${tenant}-${grantId}`,
  /** The use of one refresh token of a grant: one stream per rotation epoch (refresh-token.ts). */
  refreshToken: (tenant: TenantId, grantId: string, generation: number) => `refresh_token-${tenant}-${grantId}.${generation}`,
  keyring: (tenant: TenantId) => `keyring-${tenant}`,
  /** The back-channel logout of one ended session to one client (backchannel-logout.ts). */
  backchannelLogout: (tenant: TenantId, sessionId: string, clientId: string) => `backchannel_logout-${tenant}-${sessionId}.${clientId}`,
  /** The sealed checkpoints of `$all` (contracts/events/log.ts): one stream per tenant. */
  log: (tenant: TenantId) => `log-${tenant}`,
} as const;

export type Aggregate = keyof typeof streams;

/**
 * The one service that appends to each aggregate's streams (DESIGN §3: a service owns its
 * aggregates). Every service may read every stream; the log's write permissions on the bus are
 * derived from this table (infra/bus/permissions.ts), so an event on an aggregate's stream is
 * attributable to its owner.
 */
export const STREAM_OWNERS = {
  client: 'client-registry',
  user: 'authn',
  username: 'authn',
  authentication: 'authn',
  session: 'authn',
  consent: 'authn',
  grant: 'token-issuer',
  refreshToken: 'token-issuer',
  keyring: 'token-issuer',
  backchannelLogout: 'token-issuer',
  log: 'token-issuer',
} as const satisfies Record<Aggregate, ServiceName>;

export function parseStreamName(name: string): { aggregate: string; tenant: string; id: string } | null {
  const match = /^([a-z_]+)-([a-z0-9_]+)(?:-(.+))?$/.exec(name);
  if (!match) return null;
  return { aggregate: match[1]!, tenant: match[2]!, id: match[3] ?? '' };
}

/** What each aggregate's stream names start with (`<prefix>-<tenant>-<id>`), read off `streams`. */
export const STREAM_PREFIXES = Object.fromEntries(
  (Object.keys(streams) as Aggregate[]).map((aggregate) => {
    const name = (streams[aggregate] as (...args: unknown[]) => string)('t', 'i', 0, 'c');
    return [aggregate, name.slice(0, name.indexOf('-'))];
  }),
) as Record<Aggregate, string>;

/** The aggregate a stream belongs to, by its name's prefix; null for a name no aggregate writes. */
export function aggregateOfStream(name: string): Aggregate | null {
  const place = parseStreamName(name);
  if (!place) return null;
  const found = (Object.keys(STREAM_PREFIXES) as Aggregate[]).find((aggregate) => STREAM_PREFIXES[aggregate] === place.aggregate);
  return found ?? null;
}

/** The service that may append to this stream (STREAM_OWNERS); null for a name no aggregate writes. */
export function streamOwner(name: string): ServiceName | null {
  const aggregate = aggregateOfStream(name);
  return aggregate === null ? null : STREAM_OWNERS[aggregate];
}
