import { DependencyUnavailableError } from '../dependency-unavailable.js';

/**
 * The event store port (DESIGN §5). Every adapter (in-memory, SQLite, later JetStream and
 * KurrentDB) passes the contract suite in test/contract/event-store.contract.ts.
 *
 * Versions are opaque to callers: a caller only ever hands back a version it read (or one of
 * the two markers). Positions in `$all` are numbers that grow strictly with commit order.
 */

/** Opaque per-stream version token, as returned by `readStream` and `append`. */
export type StreamVersion = string & { readonly __brand: 'StreamVersion' };

export type ExpectedVersion = StreamVersion | 'no_stream' | 'any';

/** An event as handed to `append`: everything but its place in the log. */
export interface NewEvent {
  type: string;
  /** Schema version of this event type (contracts/events). */
  schemaVersion: number;
  data: unknown;
  metadata: unknown;
  /** SHA-256 (hex) over the canonical form of { type, schemaVersion, data, metadata }. */
  hash: string;
}

/** An event as read back from the store. */
export interface RecordedEvent extends NewEvent {
  streamName: string;
  /** 0-based index of the event in its stream. */
  streamIndex: number;
  /** Position in `$all`; strictly increasing in commit order, never reused. */
  position: number;
}

export interface ReadStreamResult {
  events: RecordedEvent[];
  /** null when the stream does not exist. */
  version: StreamVersion | null;
}

export interface AppendResult {
  version: StreamVersion;
  /** The appended events as stored, with their stream indexes and positions. */
  events: RecordedEvent[];
}

export class WrongExpectedVersionError extends Error {
  override readonly name = 'WrongExpectedVersionError';
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedVersion,
    readonly actual: StreamVersion | null,
  ) {
    super(`stream ${streamName}: expected version ${expected}, actual ${actual ?? 'no_stream'}`);
  }
}

/**
 * A stored record the store cannot turn into an event: corrupt, or not written by this store.
 * Reading it again fails again, so a follower that meets it treats it as a poison event.
 */
export class UndecodableEventError extends Error {
  override readonly name = 'UndecodableEventError';
  constructor(
    readonly position: number,
    readonly streamName: string | undefined,
    override readonly cause: unknown,
  ) {
    super(`the record at position ${position}${streamName ? ` (${streamName})` : ''} is not an event of this store: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/**
 * The store could not be reached, or could not say whether an append was stored. Callers map
 * it to `temporarily_unavailable` (503, Retry-After): the client may try again.
 */
export class EventStoreUnavailableError extends DependencyUnavailableError {
  override readonly name: string = 'EventStoreUnavailableError';
}

export interface Subscription {
  /** Stops delivery; resolves when no handler call is running any more. */
  stop(): Promise<void>;
}

export interface SubscribeOptions {
  /** Deliver events with a position strictly greater than this; 0 (or omitted) means from the start. */
  after?: number;
  /** Called once the subscription has delivered everything that existed when it started. */
  onCaughtUp?: () => void;
  onError?: (error: unknown) => void;
}

/**
 * How every adapter's subscription reports the error that ended it: to `onError` on a later
 * tick, or, without one, as an uncaught exception (like an EventEmitter 'error' without a
 * listener), because a follower that silently stops is worse than a crash.
 */
export function reportSubscriptionEnd(options: SubscribeOptions, error: unknown): void {
  const onError = options.onError;
  process.nextTick(() => {
    if (onError) onError(error);
    else throw error;
  });
}

export interface EventStore {
  /**
   * Appends atomically: all events or none. Throws WrongExpectedVersionError if the stream's
   * version is not `expected` ('no_stream': the stream must not exist; 'any': no check).
   */
  append(streamName: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult>;
  readStream(streamName: string): Promise<ReadStreamResult>;
  /** Reads `$all` in commit order, events with position > `after`, at most `limit` of them. */
  readAll(options?: { after?: number; limit?: number }): Promise<RecordedEvent[]>;
  /**
   * Catch-up subscription to `$all`: first every stored event after `after`, then every new one,
   * in order, each exactly once. The handler is awaited before the next event is delivered.
   */
  subscribeToAll(handler: (event: RecordedEvent) => Promise<void> | void, options?: SubscribeOptions): Subscription;
  /**
   * The position of the last event in `$all` (0 when empty), where the adapter knows it cheaply:
   * what a long read shows its progress against. Optional: a reader without it shows none.
   */
  headPosition?(): Promise<number>;
  /**
   * Like readAll, but only events of these types (the positions of the others are skipped):
   * where the adapter can leave the others unread and undecoded (SQLite). A replay of a few
   * projections reads the fraction of the log they look at. Optional.
   */
  readAllOfTypes?(types: readonly string[], options?: { after?: number; limit?: number }): Promise<RecordedEvent[]>;
  /** Whether the store answers (for readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
