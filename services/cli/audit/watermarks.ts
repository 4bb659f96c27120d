import { textField, type LogEvent } from './log-event.js';

/**
 * Revocation watermarks (DESIGN §3): an event after which every token of a client or a user
 * issued at or before a given time is refused. One line per event type: a new watermark (the
 * users' `user.disabled` and `user.forgotten`) is one more entry here, and both `idp as-of` and
 * the grant timeline of `idp audit` follow it.
 *
 * `through` is compared at second precision with the token's issue time, as the token-issuer
 * compares a JWT's `iat` (services/shared/projections/client-watermark.ts): a token of the same
 * second as the watermark is covered. `Infinity`: every token, whenever issued (a deleted client).
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

export const WATERMARK_EVENTS: Readonly<Record<string, Reader>> = {
  'client.tokens_revoked': (e) => covering(client(e), timeOf(e, 'revokedAt'), timeOf(e, 'revokedAt')),
  'client.deleted': (e) => covering(client(e), timeOf(e, 'deletedAt'), Number.POSITIVE_INFINITY),
  'user.disabled': (e) => covering(user(e), timeOf(e, 'disabledAt'), timeOf(e, 'disabledAt')),
  'user.forgotten': (e) => covering(user(e), timeOf(e, 'forgottenAt'), timeOf(e, 'forgottenAt')),
};

/** The watermark an event sets, if it is one. */
export function watermarkOf(event: LogEvent): Watermark | undefined {
  const read = Object.hasOwn(WATERMARK_EVENTS, event.type) ? WATERMARK_EVENTS[event.type] : undefined;
  const mark = read?.(event);
  return mark === undefined ? undefined : { type: event.type, ...mark, actor: event.actor, correlationId: event.correlationId, position: event.position };
}

/** Whether the watermark covers a token issued at `issuedAt` (epoch ms), for this client and user. */
export function watermarkCovers(mark: Watermark, token: { clientId: string; sub: string | null; issuedAt: number }): boolean {
  const mine = mark.target.kind === 'client' ? mark.target.clientId === token.clientId : mark.target.sub === token.sub;
  return mine && Math.floor(token.issuedAt / 1000) <= Math.floor(mark.through / 1000);
}
