import { UserEvent } from '../../../contracts/events/user.js';
import { projection } from './project.js';

/**
 * A user's watermark (DESIGN §3): every token of the user issued at or before it is refused.
 * `user.disabled` sets it and refuses every token while the user stays disabled; `user.enabled`
 * lifts the refusal but moves the watermark up to the enabling, so that no token from before
 * (nor one that slipped through while disabled) works again; `user.forgotten` refuses every token
 * for good.
 *
 * Each event's value is whole (the projection stays a pure function of one event): the watermark
 * only ever moves forward, since each event's time is later than the one before on the stream.
 * authn owns the events and writes this projection through at once (its namespace), so the very
 * next introspection, userinfo or refresh sees it, also when the token-issuer is another process;
 * the token-issuer's projector writes it too (its own namespace), and its lookups read both.
 */
export const userWatermarkKey = (tenant: string, sub: string) => `user-watermark:${tenant}:${sub}`;

export interface UserWatermark {
  /** Epoch seconds: tokens with `iat` (or a lineage, a code, a session begun) at or below it are refused. */
  revokedThrough: number;
  /** `disabled` or `forgotten`: every token of the user is refused, whenever issued; null once enabled. */
  refusesAll: 'disabled' | 'forgotten' | null;
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** The watermark one event sets (undefined: the event sets none). */
export function userWatermarkOf(event: UserEvent): UserWatermark | undefined {
  switch (event.type) {
    case 'user.disabled':
      return { revokedThrough: seconds(event.data.disabledAt), refusesAll: 'disabled' };
    case 'user.enabled':
      return { revokedThrough: seconds(event.data.enabledAt), refusesAll: null };
    case 'user.forgotten':
      return { revokedThrough: seconds(event.data.forgottenAt), refusesAll: 'forgotten' };
    default:
      return undefined;
  }
}

/** Folds a user's stream into its watermark, for reading the stream itself. */
export function foldUserWatermark(mark: UserWatermark | undefined, event: UserEvent): UserWatermark | undefined {
  const next = userWatermarkOf(event);
  if (!next) return mark;
  // A forgotten user stays forgotten whatever follows (the decider refuses it; a fold never lifts it).
  if (mark?.refusesAll === 'forgotten') return { revokedThrough: Math.max(mark.revokedThrough, next.revokedThrough), refusesAll: 'forgotten' };
  return { revokedThrough: Math.max(mark?.revokedThrough ?? 0, next.revokedThrough), refusesAll: next.refusesAll };
}

export const userWatermarks = projection(UserEvent, ['user.disabled', 'user.enabled', 'user.forgotten'], (event, meta) => {
  const mark = userWatermarkOf(event);
  return mark ? [{ kind: 'put', key: userWatermarkKey(meta.tenant, event.data.sub), value: mark }] : [];
});

/** Whether the watermark refuses a token (or a session, a code, a lineage) of the user issued at `iat` (epoch seconds). */
export function userWatermarkRefuses(mark: UserWatermark | undefined, iat: number): boolean {
  if (!mark) return false;
  return mark.refusesAll !== null || iat <= mark.revokedThrough;
}
