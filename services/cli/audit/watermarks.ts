import { textField, type LogEvent } from './log-event.js';

/**
 * Revocation watermarks (DESIGN §3): an event after which every token of a client or a user
 * issued at or before a given time is refused. One line per event type: a new watermark (the
 * users' `user.disabled` and `user.forgotten`) is one more entry here, and both `idp as-of` and
 * the grant timeline of `idp audit` follow it.
 *
 * `through` is compared at second precision with the token's issue time, as the token-issuer
 * compares a JWT's `iat` (services/shared/projections/client-watermark.ts): a token of the same
 * second as the watermark is covered. `Infinity`: every token, whenever issued (a deleted client,
 * a forgotten user, a user while disabled).
 */
export interface Watermark {
  type: string;
  /** Whose tokens it covers. */
  target: { kind: 'client'; clientId: string } | { kind: 'user'; sub: string };
  /** Epoch ms from which it refuses. */
  at: number;
  /** Epoch ms: tokens issued at or before it (second precision) are covered. */
  through: number;
  actor: string;
  correlationId: string;
  position: number;
}

type Reader = (event: LogEvent) => Omit<Watermark, 'type' | 'actor' | 'correlationId' | 'position'> | undefined;

const timeOf = (event: LogEvent, field: string): number => {
  const text = textField(event.data, field);
  const parsed = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(parsed) ? event.time : parsed;
};
const client = (event: LogEvent) => {
  const clientId = textField(event.data, 'clientId');
  return clientId === undefined ? undefined : ({ kind: 'client', clientId } as const);
};
const user = (event: LogEvent) => {
  const sub = textField(event.data, 'sub');
  return sub === undefined ? undefined : ({ kind: 'user', sub } as const);
};
const covering = (target: Watermark['target'] | undefined, at: number, through: number) =>
  target === undefined ? undefined : { target, at, through };

const ALL = Number.POSITIVE_INFINITY;

/**
 * `closes`: the watermark types of the same client or user that this event ends for tokens issued
 * after it (`user.enabled` ends a disablement, which refused every token while it lasted; the
 * enabling is itself a watermark up to its own time, so nothing from before works again).
 */
export const WATERMARK_EVENTS: Readonly<Record<string, { read: Reader; closes?: readonly string[] }>> = {
  'client.tokens_revoked': { read: (e) => covering(client(e), timeOf(e, 'revokedAt'), timeOf(e, 'revokedAt')) },
  'client.deleted': { read: (e) => covering(client(e), timeOf(e, 'deletedAt'), ALL) },
  'user.disabled': { read: (e) => covering(user(e), timeOf(e, 'disabledAt'), ALL) },
  'user.enabled': { read: (e) => covering(user(e), timeOf(e, 'enabledAt'), timeOf(e, 'enabledAt')), closes: ['user.disabled'] },
  'user.forgotten': { read: (e) => covering(user(e), timeOf(e, 'forgottenAt'), ALL) },
};

/** The watermark an event sets, if it is one. */
export function watermarkOf(event: LogEvent): Watermark | undefined {
  const entry = Object.hasOwn(WATERMARK_EVENTS, event.type) ? WATERMARK_EVENTS[event.type] : undefined;
  const mark = entry?.read(event);
  return mark === undefined ? undefined : { type: event.type, ...mark, actor: event.actor, correlationId: event.correlationId, position: event.position };
}

/**
 * Adds a watermark to those in force: one that closes others (`user.enabled`) caps what they
 * cover at its own time, so that tokens issued after it are not refused by them.
 */
export function addWatermark(marks: Watermark[], mark: Watermark): void {
  const closes = WATERMARK_EVENTS[mark.type]?.closes ?? [];
  for (const earlier of marks) {
    if (closes.includes(earlier.type) && sameTarget(earlier, mark) && earlier.through > mark.at) earlier.through = mark.at;
  }
  marks.push(mark);
}

function sameTarget(a: Watermark, b: Watermark): boolean {
  if (a.target.kind === 'client' && b.target.kind === 'client') return a.target.clientId === b.target.clientId;
  if (a.target.kind === 'user' && b.target.kind === 'user') return a.target.sub === b.target.sub;
  return false;
}

/** Whether the watermark covers a token issued at `issuedAt` (epoch ms), for this client and user. */
export function watermarkCovers(mark: Watermark, token: { clientId: string; sub: string | null; issuedAt: number }): boolean {
  const mine = mark.target.kind === 'client' ? mark.target.clientId === token.clientId : mark.target.sub === token.sub;
  return mine && Math.floor(token.issuedAt / 1000) <= Math.floor(mark.through / 1000);
}
