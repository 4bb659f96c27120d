import { AsyncLocalStorage } from 'node:async_hooks';
import {
  BACKWARDS,
  END,
  FORWARDS,
  KurrentDBClient,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError as KurrentWrongExpectedVersionError,
  excludeSystemEvents,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type Filter,
} from '@kurrent/kurrentdb-client';
import {
  WrongExpectedVersionError,
  reportSubscriptionEnd,
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
import {
  appendOutcome,
  fromRecordedEvent,
  normaliseConnectionString,
  readPositionAfter,
  toEventData,
  toStreamState,
  toVersion,
  type AppendOutcome,
} from './kurrentdb-mapping.js';

export {
  appendOutcome,
  fromRecordedEvent,
  normaliseConnectionString,
  toEventData,
  type AppendOutcome,
  type KurrentAppendResult,
  type KurrentRecordedEvent,
} from './kurrentdb-mapping.js';

/*
 * KurrentDB through its official gRPC client (@kurrent/kurrentdb-client 1.x).
 *
 * - StreamVersion: the stream revision (0-based index of its last event), as a decimal string.
 * - position: the event's commit position in `$all`. Events appended without an explicit
 *   transaction (all of ours) have commit position === prepare position, one per event, so the
 *   commit position alone names an event and `{ commit: p, prepare: p }` reads from it again.
 *   Positions are byte offsets in the transaction log and are turned into numbers: exact below
 *   2^53 bytes (8 PiB of log); beyond that the adapter throws rather than round.
 * - The server is KurrentDB (or EventStoreDB 23.10+): stream reads must carry `$all` positions
 *   (22.6+) and catch-up subscriptions must send "caught up" (23.10+).
 */

const PING_TIMEOUT_MS = 5_000;

export interface KurrentDbOptions {
  /**
   * Prepended to every stream name this store writes and reads, and `$all` is filtered down to
   * the streams that start with it. Gives each test (or each tenant of a shared server) a store
   * of its own; without it `$all` is every non-system event.
   */
  streamPrefix?: string;
}

export class KurrentDbEventStore implements EventStore {
  private readonly subscriptions = new Set<KurrentCatchUp>();
  private closed = false;

  private constructor(
    private readonly client: KurrentDBClient,
    private readonly streamPrefix: string,
  ) {}

  /** Connects lazily: a bad string throws here, an unreachable server fails the first call (see `ping`). */
  static connect(connectionString: string, options: KurrentDbOptions = {}): KurrentDbEventStore {
    const streamPrefix = options.streamPrefix ?? '';
    if (streamPrefix.startsWith('$')) throw new Error(`streamPrefix "${streamPrefix}" would make system streams`);
    return new KurrentDbEventStore(KurrentDBClient.connectionString(normaliseConnectionString(connectionString)), streamPrefix);
  }

  async append(streamName: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const proposed = events.map(toEventData);
    let outcome: AppendOutcome;
    try {
      const result = await this.client.appendToStream(this.streamPrefix + streamName, proposed, {
        streamState: toStreamState(expected),
      });
      outcome = appendOutcome(result);
    } catch (error) {
      if (error instanceof KurrentWrongExpectedVersionError) {
        throw new WrongExpectedVersionError(streamName, expected, toVersion(error.actualState));
      }
      throw error;
    }
    if (!outcome.appended) {
      // The revision of a failed result is only a hint (see appendOutcome): read the real one.
      const actual = outcome.actual === null ? null : await this.currentVersion(streamName);
      throw new WrongExpectedVersionError(streamName, expected, actual);
    }
    const lastRevision = outcome.lastRevision;
    // The append answers with the last revision only; the events' positions come from reading
    // them back. The revisions are ours: the append was atomic and ended at `lastRevision`.
    const stored = await this.readRevisions(streamName, lastRevision - BigInt(events.length - 1), events.length);
    return { version: String(lastRevision) as StreamVersion, events: stored };
  }

  async readStream(streamName: string): Promise<ReadStreamResult> {
    this.assertOpen();
    let events: RecordedEvent[];
    try {
      events = await this.readRevisions(streamName, START);
    } catch (error) {
      if (error instanceof StreamNotFoundError) return { events: [], version: null };
      throw error;
    }
    const last = events.at(-1);
    return { events, version: last === undefined ? null : (String(last.streamIndex) as StreamVersion) };
  }

  async readAll(options: { after?: number; limit?: number } = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const { after = 0, limit } = options;
    if (!Number.isFinite(after)) throw new RangeError(`after must be a finite number, got ${after}`);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
      throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
    }
    if (limit === 0) return [];

    // Reading from a position includes the event at that position: ask for one more, drop it.
    const from = readPositionAfter(after);
    const maxCount = limit === undefined ? undefined : from === START ? limit : limit + 1;
    const events: RecordedEvent[] = [];
    for await (const resolved of this.client.readAll({ fromPosition: from, direction: FORWARDS, filter: this.filter(), maxCount })) {
      const event = this.toRecorded(resolved);
      if (event !== undefined && event.position > after) events.push(event);
    }
    return limit === undefined ? events : events.slice(0, limit);
  }

  subscribeToAll(
    handler: (event: RecordedEvent) => Promise<void> | void,
    options: SubscribeOptions = {},
  ): Subscription {
    this.assertOpen();
    const source = this.client.subscribeToAll({ fromPosition: readPositionAfter(options.after ?? 0), filter: this.filter() });
    const subscription = new KurrentCatchUp(
      source,
      (resolved) => this.toRecorded(resolved),
      handler,
      options,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Reads the last event of `$all`: the cheapest call that needs a working connection and read access. */
  async ping(): Promise<void> {
    this.assertOpen();
    const read = async () => {
      for await (const _ of this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) break;
    };
    await withTimeout(read(), PING_TIMEOUT_MS, 'KurrentDB ping');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.client.dispose();
  }

  /**
   * `count` events of a stream from `from` on (all of them without a count). From the leader, which
   * has every acknowledged append: a follower may not yet have the one just made.
   */
  private async readRevisions(streamName: string, from: bigint | typeof START, count?: number): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    const options = { fromRevision: from, maxCount: count, requiresLeader: true };
    for await (const resolved of this.client.readStream(this.streamPrefix + streamName, options)) {
      if (resolved.event !== undefined) events.push(fromRecordedEvent(resolved.event, this.streamPrefix));
    }
    return events;
  }

  /** The stream's version now: the revision of its last event, read from the leader. */
  private async currentVersion(streamName: string): Promise<StreamVersion | null> {
    const options = { direction: BACKWARDS, fromRevision: END, maxCount: 1, requiresLeader: true } as const;
    try {
      for await (const resolved of this.client.readStream(this.streamPrefix + streamName, options)) {
        if (resolved.event !== undefined) return String(resolved.event.revision) as StreamVersion;
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return null;
  }

  private toRecorded(resolved: AllStreamResolvedEvent): RecordedEvent | undefined {
    // Without resolveLinkTos every read gives the event itself; a record without one is skipped.
    return resolved.event === undefined ? undefined : fromRecordedEvent(resolved.event, this.streamPrefix);
  }

  /** Server-side: only our streams, or without a prefix every event whose type does not start with `$`. */
  private filter(): Filter {
    return this.streamPrefix === '' ? excludeSystemEvents() : streamNameFilter({ prefixes: [this.streamPrefix] });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

/** Which subscription's loop the current async context belongs to (see `stop`). */
const runningLoop = new AsyncLocalStorage<KurrentCatchUp>();

/**
 * A catch-up subscription to `$all` on the client's subscription stream, read one event at a time
 * so that the handler is awaited before the next one and the stream's buffer applies back-pressure
 * to the server. Errors end it and go to `onError`, as in the in-memory adapter's loop.
 */
class KurrentCatchUp implements Subscription {
  private stopped = false;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  /** Events taken from the source so far. */
  private taken = 0;
  /** How many events the source had given before the server said "caught up". */
  private caughtUpAfter: number | undefined;
  private readonly finished: Promise<void>;

  constructor(
    private readonly source: AllStreamSubscription,
    private readonly toRecorded: (resolved: AllStreamResolvedEvent) => RecordedEvent | undefined,
    private readonly handler: (event: RecordedEvent) => Promise<void> | void,
    private readonly options: SubscribeOptions,
    private readonly onEnd: () => void,
  ) {
    source.on('readable', () => this.wake?.());
    source.on('error', (error) => {
      this.failure ??= { error };
      this.wake?.();
    });
    source.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    // The marker arrives in order with the events, but the events before it may still wait in the
    // source's buffer: caught up means once those are delivered too.
    source.once('caughtUp', () => {
      this.caughtUpAfter = this.taken + source.readableLength;
      this.wake?.();
    });
    this.finished = runningLoop.run(this, () => this.run());
  }

  async stop(): Promise<void> {
    this.end();
    // Called from the handler (or onCaughtUp) itself: waiting for the loop would wait for us.
    if (runningLoop.getStore() === this) return;
    await this.finished;
  }

  private async run(): Promise<void> {
    let position = this.options.after ?? 0;
    let caughtUp = false;
    try {
      while (!this.stopped) {
        if (!caughtUp && this.caughtUpAfter !== undefined && this.taken >= this.caughtUpAfter) {
          caughtUp = true;
          this.options.onCaughtUp?.();
          continue;
        }
        const resolved = this.source.read() as AllStreamResolvedEvent | null;
        if (resolved === null) {
          if (this.failure) throw this.failure.error;
          if (this.ended) throw new Error('the server ended the $all subscription');
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        this.taken++;
        const event = this.toRecorded(resolved);
        // The server may start with the event at `after` itself.
        if (event === undefined || event.position <= position) continue;
        await this.handler(event);
        position = event.position;
      }
    } catch (error) {
      this.end();
      reportSubscriptionEnd(this.options, error);
    }
  }

  private end(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onEnd();
    this.wake?.();
    // Cancelling is all that is left to do; a failure to cancel has nothing left to stop.
    this.source.unsubscribe().catch(() => {});
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} got no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
