import { aggregateOfStream, parseStreamName } from '../../../contracts/streams.js';
import { textField, type LogEvent } from './log-event.js';
import { summarize } from './summaries.js';
import { watermarkOf } from './watermarks.js';

/**
 * `idp audit`: which events of the log belong to the timeline of a user, a client or a grant,
 * decided one event at a time in `$all` order (memory: the ids of the subject's grants and
 * sessions, and the rows).
 *
 * - A user: its `user-` stream and every event naming its `sub` (logins, sessions, consents,
 *   grants, tokens), then every later event of those grant streams (redemption, revocation) and
 *   their `refresh_token-` streams, and the back-channel logouts of its sessions.
 * - A client: its `client-` stream and every event naming its `client_id`, then the rest of its
 *   grant streams and their refresh streams.
 * - A grant: its stream, its refresh streams, and the watermarks (watermarks.ts) of its client
 *   and user set after it began.
 */
export type AuditSubject = { kind: 'user'; sub: string } | { kind: 'client'; clientId: string } | { kind: 'grant'; grantId: string };

export interface TimelineRow {
  time: string;
  position: number;
  type: string;
  summary: string;
  actor: string;
  correlationId: string;
  causationId: string | null;
  eventId: string;
  stream: string;
  schemaVersion: number;
  grantId?: string;
  clientId?: string;
  sub?: string;
  sessionId?: string;
  /** The allow-listed data of the event (never a secret's hash, a sealed blob or key material). */
  data: Readonly<Record<string, unknown>>;
}

export class TimelineSelector {
  private readonly grants = new Set<string>();
  private readonly sessions = new Set<string>();
  /** The grant's own client and user, once its first event named them. */
  private grantParties: { clientId?: string; sub?: string } | undefined;
  /** Whether any event of the log is about the subject (else it is unknown). */
  found = false;

  constructor(private readonly subject: AuditSubject) {}

  /** Whether the event is on the subject's timeline; call for every event of the log, in order. */
  matches(event: LogEvent): boolean {
    const matched = this.decide(event);
    if (matched) this.found = true;
    return matched;
  }

  private decide(event: LogEvent): boolean {
    const aggregate = aggregateOfStream(event.streamName);
    const streamId = parseStreamName(event.streamName)?.id ?? '';
    const grantId = textField(event.data, 'grantId');
    switch (this.subject.kind) {
      case 'grant': {
        const { grantId: wanted } = this.subject;
        if (aggregate === 'grant' && streamId === wanted) {
          this.grantParties ??= { ...optional('clientId', textField(event.data, 'clientId')), ...optional('sub', textField(event.data, 'sub')) };
          return true;
        }
        if (aggregate === 'refreshToken') return grantId === wanted;
        const mark = watermarkOf(event);
        if (!mark || !this.grantParties) return false;
        return mark.target.kind === 'client' ? mark.target.clientId === this.grantParties.clientId : mark.target.sub === this.grantParties.sub;
      }
      case 'user':
      case 'client': {
        const named =
          this.subject.kind === 'user'
            ? (aggregate === 'user' && streamId === this.subject.sub) || textField(event.data, 'sub') === this.subject.sub
            : (aggregate === 'client' && streamId === this.subject.clientId) || textField(event.data, 'clientId') === this.subject.clientId;
        if (named) {
          if (aggregate === 'grant' && grantId !== undefined) this.grants.add(grantId);
          const sessionId = textField(event.data, 'sessionId');
          if (aggregate === 'session' && sessionId !== undefined) this.sessions.add(sessionId);
          return true;
        }
        if (aggregate === 'grant' || aggregate === 'refreshToken') return grantId !== undefined && this.grants.has(grantId);
        if (aggregate === 'backchannelLogout' && this.subject.kind === 'user') return this.sessions.has(textField(event.data, 'sessionId') ?? '');
        return false;
      }
    }
  }
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/**
 * A `username-` stream is named after the username digest, which the allow-list withholds (a
 * digest of a guessable name): its name is shown without it.
 */
function shownStreamName(name: string): string {
  const place = parseStreamName(name);
  return place && aggregateOfStream(name) === 'username' ? `${place.aggregate}-${place.tenant}-(username digest withheld)` : name;
}

export function timelineRow(event: LogEvent): TimelineRow {
  const ids = ['grantId', 'clientId', 'sub', 'sessionId'] as const;
  const row: TimelineRow = {
    time: new Date(event.time).toISOString(),
    position: event.position,
    type: event.type,
    summary: summarize(event),
    actor: event.actor,
    correlationId: event.correlationId,
    causationId: event.causationId,
    eventId: event.eventId,
    stream: shownStreamName(event.streamName),
    schemaVersion: event.schemaVersion,
    data: event.published,
  };
  for (const id of ids) {
    const value = textField(event.published, id);
    if (value !== undefined) row[id] = value;
  }
  return row;
}
