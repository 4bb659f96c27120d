import { ClientEvent } from '../../../contracts/events/client.js';
import { projection } from './project.js';

/**
 * A client's watermark (DESIGN §3): every access token of the client issued at or before it is
 * refused. `client.tokens_revoked` sets it; `client.deleted` refuses every token of the client.
 *
 * The client-registry owns the events and writes this projection through at once (so the very
 * next introspection or userinfo call sees it, also when the token-issuer is another process
 * sharing the projection store); the token-issuer's projector writes it too, from the same
 * events, so its own rebuilds have it. Both writes carry the event's position: the second is a
 * no-op.
 */
export const clientWatermarkKey = (tenant: string, clientId: string) => `client-watermark:${tenant}:${clientId}`;

export interface ClientWatermark {
  /** Epoch seconds: tokens with `iat` at or below it are refused (second precision, so a token of the same second too). */
  revokedThrough: number;
  /** The client was deleted: all its tokens are refused. */
  deleted: boolean;
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** Folds the client's events into its watermark (undefined: none), for reading the stream itself. */
export function foldClientWatermark(mark: ClientWatermark | undefined, event: ClientEvent): ClientWatermark | undefined {
  switch (event.type) {
    case 'client.tokens_revoked':
      return { revokedThrough: Math.max(mark?.revokedThrough ?? 0, seconds(event.data.revokedAt)), deleted: mark?.deleted ?? false };
    case 'client.deleted':
      return { revokedThrough: Math.max(mark?.revokedThrough ?? 0, seconds(event.data.deletedAt)), deleted: true };
    default:
      return mark;
  }
}

export const clientWatermarks = projection(ClientEvent, ['client.tokens_revoked', 'client.deleted'], (event, meta) => {
  const mark = foldClientWatermark(undefined, event);
  return mark ? [{ kind: 'put', key: clientWatermarkKey(meta.tenant, event.data.clientId), value: mark }] : [];
});

/** Whether a token of the client issued at `iat` (epoch seconds) is refused by the watermark. */
export function watermarkRefuses(mark: ClientWatermark | undefined, iat: number): boolean {
  if (!mark) return false;
  return mark.deleted || iat <= mark.revokedThrough;
}
