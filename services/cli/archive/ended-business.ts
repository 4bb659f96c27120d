import { aggregateOfStream, parseStreamName, type Aggregate } from '../../../contracts/streams.js';
import type { RecordedEvent } from '../../../infra/event-store/port.js';
import { PARTICIPANTS_TTL_MS } from '../../token-issuer/app/backchannel-logout/participants.js';

/**
 * Which streams `idp archive` may move out of the log (README, "Verify and archive"): only
 * business that has ended, so that neither a running IdP nor a rebuilt projection misses what
 * is gone. A stream is archived whole or not at all, and never when it has an event after the
 * cut. What the services load whole (users, usernames, clients, consents, the keyring, the
 * seals) always stays. Ended means, by the command's clock (`endedBefore`):
 *
 * - a grant, with its refresh-token streams: every expiry any of its events states has passed
 *   (codes, access tokens, refresh tokens idle and absolute), and so has the time the back-channel
 *   sender remembers its session's clients; a revoked grant stays (its revocation is live state:
 *   the `grant-revoked` projection keeps it for good);
 * - a session: ended (`session.ended`) or expired, and that a day ago (PARTICIPANTS_TTL_MS), so
 *   the back-channel logout it started is long done;
 * - a back-channel logout: delivered or abandoned;
 * - an authentication (a login that changed nothing on the user's stream): a later login of the
 *   same user exists, so the user's last login stays what it was.
 *
 * The rules lean to keeping: an event they do not know keeps its stream.
 */
export type ArchivableAggregate = Extract<Aggregate, 'grant' | 'refreshToken' | 'session' | 'backchannelLogout' | 'authentication'>;

interface Group {
  /** Every stream of the group, with its last position. */
  streams: Map<string, number>;
  /** The latest time (ms) at which something of it still lives; -Infinity while nothing says. */
  livesUntil: number;
  /** Whether any event says it ended (session.ended, a delivered or abandoned logout). */
  ended: boolean;
  /** Whether something keeps it whatever the time (a revocation, an event the rules do not know). */
  keep: boolean;
  /** authentication: the user, and the position of the login. */
  login?: { tenant: string; sub: string; position: number };
}

const GRANT_TYPES = new Set([
  'authorization_code.issued',
  'authorization_code.redeemed',
  'authorization_code.replay_detected',
  'implicit.granted',
  'tokens.issued',
  'client_credentials.granted',
  'password.granted',
  'refresh_token.rotated',
  'refresh_token.rotation_repeated',
  'refresh_token.reuse_detected',
]);
/** Grant events that name a session whose clients the back-channel sender remembers a day. */
const PARTICIPANT_TYPES = new Set(['authorization_code.issued', 'implicit.granted']);
const SESSION_TYPES = new Set(['session.started', 'session.ended']);
const LOGOUT_TYPES = new Set(['backchannel_logout.attempt_started', 'backchannel_logout.failed', 'backchannel_logout.delivered', 'backchannel_logout.abandoned']);

export class EndedBusiness {
  private readonly groups = new Map<string, Group>();
  /** `<tenant>:<sub>` → position of the user's last login (on any stream). */
  private readonly lastLogin = new Map<string, number>();
  /** Every stream seen, with its last position (to know which continue past the cut). */
  private readonly streamEnds = new Map<string, number>();

  feed(event: RecordedEvent): void {
    this.streamEnds.set(event.streamName, event.position);
    if (event.type === 'authentication.succeeded') {
      const place = parseStreamName(event.streamName);
      const sub = (event.data as { sub?: unknown } | null)?.sub;
      if (place && typeof sub === 'string') this.lastLogin.set(`${place.tenant}:${sub}`, event.position);
    }
    const aggregate = aggregateOfStream(event.streamName);
    const place = parseStreamName(event.streamName);
    if (aggregate === null || place === null || !isArchivable(aggregate)) return;
    const key = groupKey(aggregate, place.tenant, place.id);
    let group = this.groups.get(key);
    if (!group) {
      group = { streams: new Map(), livesUntil: Number.NEGATIVE_INFINITY, ended: false, keep: false };
      this.groups.set(key, group);
    }
    group.streams.set(event.streamName, event.position);
    this.note(group, aggregate, place.tenant, event);
  }

  /**
   * The streams to archive: every stream of each ended group, provided none of them has an event
   * after `upToPosition`. By aggregate, in no particular order.
   */
  archivable(upToPosition: number, endedBefore: number): Map<string, ArchivableAggregate> {
    const chosen = new Map<string, ArchivableAggregate>();
    for (const [key, group] of this.groups) {
      if (group.keep) continue;
      if ([...group.streams.keys()].some((name) => (this.streamEnds.get(name) ?? 0) > upToPosition)) continue;
      if (!this.hasEnded(key, group, endedBefore)) continue;
      for (const name of group.streams.keys()) chosen.set(name, aggregateOfStream(name) as ArchivableAggregate);
    }
    return chosen;
  }

  private hasEnded(key: string, group: Group, endedBefore: number): boolean {
    const aggregate = key.slice(0, key.indexOf(':')) as ArchivableAggregate;
    switch (aggregate) {
      case 'grant':
        return Number.isFinite(group.livesUntil) && group.livesUntil <= endedBefore;
      case 'session':
        return Number.isFinite(group.livesUntil) && group.livesUntil + PARTICIPANTS_TTL_MS <= endedBefore;
      case 'backchannelLogout':
        return group.ended;
      case 'authentication': {
        const login = group.login;
        return login !== undefined && (this.lastLogin.get(`${login.tenant}:${login.sub}`) ?? 0) > login.position;
      }
      default:
        return false;
    }
  }

  private note(group: Group, aggregate: ArchivableAggregate, tenant: string, event: RecordedEvent): void {
    const time = Date.parse((event.metadata as { time?: string } | null)?.time ?? '');
    switch (aggregate) {
      case 'grant':
      case 'refreshToken':
        if (!GRANT_TYPES.has(event.type)) {
          group.keep = true; // grant.revoked, or an event the rules do not know
          return;
        }
        group.livesUntil = Math.max(group.livesUntil, latestExpiry(event.data));
        if (PARTICIPANT_TYPES.has(event.type)) group.livesUntil = Math.max(group.livesUntil, time + PARTICIPANTS_TTL_MS);
        return;
      case 'session':
        if (!SESSION_TYPES.has(event.type)) group.keep = true;
        else if (event.type === 'session.ended') group.livesUntil = time;
        else if (!group.ended) group.livesUntil = latestExpiry(event.data);
        if (event.type === 'session.ended') group.ended = true;
        return;
      case 'backchannelLogout':
        if (!LOGOUT_TYPES.has(event.type)) group.keep = true;
        else if (event.type === 'backchannel_logout.delivered' || event.type === 'backchannel_logout.abandoned') group.ended = true;
        return;
      case 'authentication': {
        const sub = (event.data as { sub?: unknown } | null)?.sub;
        if (event.type !== 'authentication.succeeded' || typeof sub !== 'string' || group.login) group.keep = true;
        else group.login = { tenant, sub, position: event.position };
        return;
      }
    }
  }
}

function isArchivable(aggregate: Aggregate): aggregate is ArchivableAggregate {
  return aggregate === 'grant' || aggregate === 'refreshToken' || aggregate === 'session' || aggregate === 'backchannelLogout' || aggregate === 'authentication';
}

/** A grant and its refresh-token streams (`<grantId>.<generation>`) are one group. */
function groupKey(aggregate: ArchivableAggregate, tenant: string, id: string): string {
  if (aggregate === 'refreshToken') return `grant:${tenant}:${id.slice(0, id.lastIndexOf('.'))}`;
  return `${aggregate}:${tenant}:${id}`;
}

/** The latest time (ms) named by any `expiresAt` / `…ExpiresAt` field, however deep; -Infinity if none. */
export function latestExpiry(value: unknown): number {
  let latest = Number.NEGATIVE_INFINITY;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (typeof node === 'object' && node !== null) {
      for (const [field, inner] of Object.entries(node)) {
        if (/(^e|E)xpiresAt$/.test(field) && typeof inner === 'string') {
          const at = Date.parse(inner);
          if (Number.isFinite(at)) latest = Math.max(latest, at);
        } else {
          visit(inner);
        }
      }
    }
  };
  visit(value);
  return latest;
}
