import { CatchUpSubscription } from './catch-up.js';
import {
  WrongExpectedVersionError,
  type AppendResult,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  type ReadStreamResult,
  type RecordedEvent,
  type StreamVersion,
  type SubscribeOptions,
  type Subscription,
} from './port.js';
import { checkReadRange, versionMatches } from './expectations.js';

/**
 * An event as kept in memory. Data and metadata are kept as JSON text, exactly like the SQLite
 * adapter stores them, so both adapters show callers the same thing: JSON semantics, and fresh
 * objects on every read that nobody can use to change the log.
 */
interface StoredEvent {
  streamName: string;
  streamIndex: number;
  position: number;
  type: string;
  schemaVersion: number;
  hash: string;
  data: string | undefined;
  metadata: string | undefined;
}

/** The embedded, diskless event store. Everything lives in this process and dies with it. */
export class InMemoryEventStore implements EventStore {
  /** The `$all` log; `log[i].position === i + 1`. */
  private readonly log: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly subscriptions = new Set<CatchUpSubscription>();
  private closed = false;

  async append(streamName: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new RangeError('append needs at least one event');
    // Check and write happen in one synchronous stretch, so concurrent appends cannot interleave.
    const stream = this.streams.get(streamName) ?? [];
    const actual = versionAt(stream.length - 1);
    if (!versionMatches(expected, actual)) throw new WrongExpectedVersionError(streamName, expected, actual);

    // Serialise every event before touching the log, so one bad event leaves nothing behind.
    const stored = events.map(
      (event, i): StoredEvent => ({
        streamName,
        streamIndex: stream.length + i,
        position: this.log.length + i + 1,
        type: event.type,
        schemaVersion: event.schemaVersion,
        hash: event.hash,
        data: JSON.stringify(event.data),
        metadata: JSON.stringify(event.metadata),
      }),
    );
    this.log.push(...stored);
    stream.push(...stored);
    this.streams.set(streamName, stream);
    for (const subscription of this.subscriptions) subscription.notify();

    return { version: versionAt(stream.length - 1) as StreamVersion, events: stored.map(toRecorded) };
  }

  async readStream(streamName: string): Promise<ReadStreamResult> {
    this.assertOpen();
    const stream = this.streams.get(streamName) ?? [];
    return { events: stream.map(toRecorded), version: versionAt(stream.length - 1) };
  }

  async readAllOfTypes(types: readonly string[], options: { after?: number; limit?: number } = {}): Promise<RecordedEvent[]> {
    const wanted = new Set(types);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const events: RecordedEvent[] = [];
    for (let i = Math.max(0, Math.floor(options.after ?? 0)); i < this.log.length && events.length < limit; i++) {
      if (wanted.has(this.log[i]!.type)) events.push(toRecorded(this.log[i]!));
    }
    return events;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.log.length;
  }

  async readAll(options: { after?: number; limit?: number } = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    return this.readAfter(options.after ?? 0, options.limit);
  }

  subscribeToAll(
    handler: (event: RecordedEvent) => Promise<void> | void,
    options: SubscribeOptions = {},
  ): Subscription {
    this.assertOpen();
    const subscription = new CatchUpSubscription(
      (after, limit) => this.readAfter(after, limit),
      handler,
      options,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
  }

  private readAfter(after: number, limit: number | undefined): RecordedEvent[] {
    checkReadRange(after, limit);
    const start = Math.max(0, Math.floor(after));
    const end = limit === undefined ? undefined : start + limit;
    return this.log.slice(start, end).map(toRecorded);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

function toRecorded(event: StoredEvent): RecordedEvent {
  return {
    streamName: event.streamName,
    streamIndex: event.streamIndex,
    position: event.position,
    type: event.type,
    schemaVersion: event.schemaVersion,
    hash: event.hash,
    data: event.data === undefined ? undefined : JSON.parse(event.data),
    metadata: event.metadata === undefined ? undefined : JSON.parse(event.metadata),
  };
}

/** The version token of a stream whose last event has `lastIndex` (-1: no stream). */
function versionAt(lastIndex: number): StreamVersion | null {
  return lastIndex < 0 ? null : (String(lastIndex) as StreamVersion);
}

