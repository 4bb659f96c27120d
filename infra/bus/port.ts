/**
 * The bus port (DESIGN §5): request/reply with a timeout, and publish.
 *
 * Semantics follow what @nestjs/microservices gives over NATS, so that swapping the in-process
 * adapter for NATS changes nothing a caller can observe:
 * - payloads are serialised to JSON on the way in and out (no shared object identity; a Date
 *   arrives as a string; `undefined` fields disappear);
 * - a request goes to exactly one handler of the subject's queue group (round robin across
 *   registered handlers), and fails at once with BusNoResponderError when nobody listens;
 * - a request that gets no reply within its timeout fails with BusTimeoutError;
 * - an exception thrown by a handler reaches the caller as BusRemoteError (message only);
 * - publish is fire-and-forget, at most once, to every subscriber of the subject.
 */
export interface BusRequestOptions {
  timeoutMs?: number;
}

export interface Bus {
  request<TReply = unknown>(subject: string, payload: unknown, options?: BusRequestOptions): Promise<TReply>;
  publish(subject: string, payload: unknown): Promise<void>;
  /** Serves requests on `subject` as a member of queue group `queue`. Returns an unsubscribe. */
  handle(subject: string, queue: string, handler: (payload: unknown) => Promise<unknown> | unknown): () => void;
  /** Receives every message published on `subject`. Returns an unsubscribe. */
  subscribe(subject: string, handler: (payload: unknown) => Promise<void> | void): () => void;
  /** Resolves when the connection answers a round trip (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

export class BusTimeoutError extends Error {
  override readonly name = 'BusTimeoutError';
  constructor(readonly subject: string, readonly timeoutMs: number) {
    super(`no reply on ${subject} within ${timeoutMs} ms`);
  }
}

export class BusNoResponderError extends Error {
  override readonly name = 'BusNoResponderError';
  constructor(readonly subject: string) {
    super(`no responder on ${subject}`);
  }
}

export class BusRemoteError extends Error {
  override readonly name = 'BusRemoteError';
  constructor(readonly subject: string, message: string) {
    super(message);
  }
}
