/**
 * The event store on NATS JetStream (DESIGN §5, distributed mode), written for nats-server 2.9+.
 *
 * Layout. One JetStream stream (default `IDP_LOG`, file storage, limits retention with no limits,
 * `deny_delete` and `deny_purge`: an immutable log; `num_replicas` as configured, see
 * jetstream-log-stream.ts) holds every event stream. Event stream `name` is the subject
 * `<prefix>.<aggregate>.<token>` (jetstream-subjects.ts): `grant-t-42` is `idp.log.grant.grant-t-42`,
 * `consent-t-u1.web:app` is `idp.log.consent.consent-t-u1%2Eweb%3Aapp`. A log written with the
 * older scheme `<prefix>.<token>` is refused at start (see `refuseOldSubjectScheme` in jetstream-log-stream.ts).
 *
 * One append is one message. NATS 2.9 has no atomic batch publish, so all events of an append go
 * into a single message, a JSON array, which JetStream stores whole or not at all. The message
 * carries the stream index of its first event in the `Idp-Stream-Index` header, and as
 * `Nats-Msg-Id` the append's first event id: a send whose acknowledgement is lost is sent again,
 * and an append that was stored is reported as stored (jetstream-publish.ts).
 *
 * Versions. A stream's version is the JetStream sequence of its last message (the "last subject
 * sequence"). Appends publish with `Nats-Expected-Last-Subject-Sequence` (0: the subject has no
 * message yet); the server checks it under the stream's lock and answers error 10071 "wrong last
 * sequence: <actual>" otherwise. Versions are unique across streams, so a version read from one
 * stream never matches another. An append needs the stream index after the subject's last
 * message: it knows it without a round trip for a new stream and for a version this store just
 * read or wrote (a bounded cache of tails), else it loads the last message; with 'any' it still
 * publishes with the sequence it saw, and retries when another append got in between, so that
 * stream indexes stay consecutive. Each message also names the subject's previous message
 * (`Idp-Previous-Seq`), so a short stream is read by direct gets, walking back from its last.
 *
 * Positions. An event's position in `$all` is `sequence * 1024 + index in its message`: stream
 * sequences grow in commit order, so positions do too, and they stay unique. Hence an append holds
 * at most 1024 events, and positions are exact up to sequence 2^43 (Number.MAX_SAFE_INTEGER / 1024).
 *
 * The connection reconnects for ever (a NATS outage pauses the store; `ping` fails meanwhile, so
 * readiness says so), and `close` works while it is down.
 *
 * Long reads and subscriptions use ordered consumers (ephemeral, in-memory, no acks; the client
 * recreates one at its cursor if it sees a gap). A bounded read takes the consumer's `num_pending`
 * at creation as the number of messages that exist, reads exactly that many and deletes the
 * consumer; a subscription calls `onCaughtUp` once it has handled that many.
 *
 * Limits: a subject is at most MAX_SUBJECT_LENGTH characters (the subject also travels inside
 * protocol lines and consumer-create API subjects, which the server caps at 4 KiB), so a stream
 * name of more than ~1000 plain characters (or a third of that in escaped characters) is refused.
 * An append must fit into one NATS message (max_payload, 1 MiB by default).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, errors, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import {
  EventStoreUnavailableError,
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
import { createLogger, type Logger } from '../log/logger.js';
import { ensureLogStream, refuseOldSubjectScheme } from './jetstream-log-stream.js';
import { AppendPublisher, DEFAULT_PUBLISH_POLICY, appendMsgId, type LogMessage, type PublishPolicy } from './jetstream-publish.js';
import { ConnectionDroppedError, ConnectionState } from './nats-connection-state.js';
import { ConsumerSubscription, EVENTS_PER_MESSAGE, PULL_BATCH } from './jetstream-subscription.js';
import { SharedFeed } from './shared-feed.js';
import { orderedConsumer, readMessages, type LogStreamAccess } from './jetstream-read.js';
import { DEFAULT_LOG_SUBJECT_PREFIX, logSubject, streamNameOfSubject } from './jetstream-subjects.js';
import { JetStreamAcks } from '../bus/jetstream-acks.js';
import { JETSTREAM_NAMES } from '../bus/jetstream-names.js';
import type { NatsConnectionOptions } from '../bus/nats-connection-options.js';

const MAX_SUBJECT_LENGTH = 1024;
const STREAM_INDEX_HEADER = 'Idp-Stream-Index';
/** The JetStream sequence of the subject's previous message (0: none), for reads that walk back. */
const PREVIOUS_SEQ_HEADER = 'Idp-Previous-Seq';
/** Streams with at most this many events are read by walking back with direct gets. */
const WALK_BACK_MAX_EVENTS = 32;
/** How many streams' tails one store remembers (so an append after a read needs no lookup). */
const TAIL_CACHE_SIZE = 10_000;
/** Pause between reconnect attempts to a server (the client adds up to 100 ms of jitter). */
const RECONNECT_WAIT_MS = 500;
/** How long `close` lets a drain run (it needs the server) before it closes outright. */
const CLOSE_DRAIN_MS = 5_000;

export interface JetStreamEventStoreOptions {
  /** The JetStream stream of the log, default `IDP_LOG`. */
  streamName?: string;
  /** Subjects are `<subjectPrefix>.<aggregate>.<stream name token>`, default `idp.log`. */
  subjectPrefix?: string;
  /** Credentials and TLS of the connection (IDP_NATS_SEED, IDP_NATS_CA, …); anonymous without. */
  connection?: NatsConnectionOptions;
  /** `num_replicas` of the log stream, default 1 (`EVENT_STORE_URL=nats://…?replicas=3`). */
  replicas?: number;
  /** How long an append keeps trying to learn whether it was stored (jetstream-publish.ts). */
  publish?: Partial<PublishPolicy>;
  logger?: Logger;
  /** Reads only (the `idp` command line): the stream must exist, nothing is created, appends throw. */
  readOnly?: boolean;
}

/** An event as stored inside a message's JSON array. */
interface StoredEvent {
  type: string;
  schemaVersion: number;
  hash: string;
  data?: unknown;
  metadata?: unknown;
}

/** The last message of a subject, as far as this store knows: enough to append after it. */
interface Tail {
  seq: number;
  firstIndex: number;
  count: number;
}

export class JetStreamEventStore implements EventStore {
  private readonly subscriptions = new Set<ConsumerSubscription>();
  private readonly feed = new SharedFeed({
    subscribe: (handler, options) => this.consumerSubscription(handler, options),
    readAll: (options) => this.readAll(options),
    headPosition: () => this.headPosition(),
  });
  /** Tails seen by this store's reads and appends; a stale one only makes a publish fail and retry. */
  private readonly tails = new Map<string, Tail>();
  private closed = false;
  private readOnly = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly connection: ConnectionState,
    private readonly publisher: AppendPublisher,
    private readonly streamName: string,
    private readonly subjectPrefix: string,
  ) {}

  /**
   * Connects, and creates the JetStream stream if it does not exist yet, or checks (and where
   * nats-server allows it, fixes) the settings of the one that exists (jetstream-log-stream.ts).
   */
  static async connect(url: string, options: JetStreamEventStoreOptions = {}): Promise<JetStreamEventStore> {
    const streamName = options.streamName ?? JETSTREAM_NAMES.log;
    const subjectPrefix = options.subjectPrefix ?? DEFAULT_LOG_SUBJECT_PREFIX;
    const log = (options.logger ?? createLogger({ name: 'event-store' })).child({ component: 'jetstream-event-store' });
    const nc = await connect({
      ...options.connection,
      servers: url,
      name: 'idp-event-store',
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      noAsyncTraces: true, // no Error built per request for its stack (issue 12)
    });
    try {
      const jsm = await jetstreamManager(nc);
      if (options.readOnly) await jsm.streams.info(streamName);
      else await ensureLogStream(jsm, { name: streamName, subjects: `${subjectPrefix}.>`, replicas: options.replicas ?? 1 }, log);
      await refuseOldSubjectScheme(jsm, streamName, subjectPrefix);
      const js = jetstream(nc);
      const connection = new ConnectionState(nc);
      const policy = { ...DEFAULT_PUBLISH_POLICY, ...options.publish };
      const publisher = new AppendPublisher(new JetStreamAcks(nc, options.connection?.inboxPrefix), jsm, connection, streamName, policy, log);
      const store = new JetStreamEventStore(nc, js, jsm, connection, publisher, streamName, subjectPrefix);
      store.readOnly = options.readOnly === true;
      return store;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  async append(streamName: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    this.assertOpen();
    if (this.readOnly) throw new Error('this event store was opened read-only');
    if (events.length === 0) throw new RangeError('append needs at least one event');
    if (events.length > EVENTS_PER_MESSAGE) {
      throw new RangeError(`an append holds at most ${EVENTS_PER_MESSAGE} events on JetStream, got ${events.length}`);
    }
    const subject = this.subjectOf(streamName);
    // Serialised before anything is sent, so that a bad event writes nothing.
    const text = JSON.stringify(events.map(toStored));
    const msgId = appendMsgId(events);

    for (let attempt = 0; ; attempt++) {
      const last = attempt === 0 ? await this.knownTail(subject, expected) : await this.lastMessage(subject);
      const actual = last === null ? null : versionOf(last.seq);
      if (!versionMatches(expected, actual)) throw new WrongExpectedVersionError(streamName, expected, actual);

      const firstIndex = last === null ? 0 : last.firstIndex + last.count;
      const hdrs = headers();
      hdrs.set(STREAM_INDEX_HEADER, String(firstIndex));
      hdrs.set(PREVIOUS_SEQ_HEADER, String(last?.seq ?? 0));
      const outcome = await this.publisher.publish({ streamName, subject, text, headers: hdrs, msgId, expectedLastSeq: last?.seq ?? 0 });
      if (outcome.kind === 'stored') {
        // As stored: a recovered append is read back, with the headers it was stored with.
        const stored = decode(streamName, outcome.message);
        this.remember(subject, { seq: outcome.message.seq, firstIndex: stored[0]!.streamIndex, count: stored.length });
        return { version: versionOf(outcome.message.seq), events: stored };
      }
      const actualSeq = outcome.actualSeq;
      this.tails.delete(subject);
      // Another append got in between (or the remembered tail was stale): 'any' tries again
      // after it, and so does an expectation that still matches what the server has.
      if (expected === 'any' || (attempt === 0 && expected !== 'no_stream' && expected === versionOf(actualSeq))) continue;
      throw new WrongExpectedVersionError(streamName, expected, actualSeq === 0 ? null : versionOf(actualSeq));
    }
  }

  /**
   * A short stream (the usual grant, session or consent) is read by direct gets: its last message
   * by subject, then back through each message's `Idp-Previous-Seq` (one round trip per append
   * instead of creating a consumer). A longer one is read with an ordered consumer.
   */
  async readStream(streamName: string): Promise<ReadStreamResult> {
    this.assertOpen();
    // While the connection is down a read would wait for its timeout (the client drops what it
    // buffered when it dials again): say at once that the store is unreachable, and give up a
    // read in flight when the connection drops.
    if (!this.connection.connected) throw new EventStoreUnavailableError("not connected to NATS (reconnecting)");
    try {
      return await this.connection.unlessDropped(this.readStreamNow(streamName));
    } catch (error) {
      if (error instanceof ConnectionDroppedError || error instanceof errors.TimeoutError || error instanceof errors.RequestError) {
        throw new EventStoreUnavailableError(error.message, { cause: error });
      }
      throw error;
    }
  }

  private async readStreamNow(streamName: string): Promise<ReadStreamResult> {
    const subject = this.subjectOf(streamName);
    const last = await this.jsm.streams.getMessage(this.streamName, { last_by_subj: subject });
    if (last === null) {
      this.tails.delete(subject);
      return { events: [], version: null };
    }
    const lastMessage: LogMessage = { seq: last.seq, subject, headers: last.header, text: last.string() };
    const lastEvents = decode(streamName, lastMessage);
    this.remember(subject, { seq: last.seq, firstIndex: streamIndexOf(last.header), count: lastEvents.length });
    const firstIndex = streamIndexOf(last.header);
    if (firstIndex === 0) return { events: lastEvents, version: versionOf(last.seq) };

    const previous = last.header?.get(PREVIOUS_SEQ_HEADER);
    if (firstIndex <= WALK_BACK_MAX_EVENTS && previous) {
      const messages: RecordedEvent[][] = [lastEvents];
      let seq = Number(previous);
      while (seq > 0) {
        const stored = await this.jsm.streams.getMessage(this.streamName, { seq });
        if (stored === null) throw new Error(`JetStream message ${seq} of ${streamName} is missing`);
        messages.unshift(decode(streamName, { seq, subject, headers: stored.header, text: stored.string() }));
        seq = Number(stored.header?.get(PREVIOUS_SEQ_HEADER) ?? 0);
      }
      const events = messages.flat();
      if (events[0]?.streamIndex === 0 && events.length === firstIndex + lastEvents.length) {
        return { events, version: versionOf(last.seq) };
      }
    }
    // Long (or written without the back links): read the subject with a consumer, up to `last`.
    const events: RecordedEvent[] = [];
    for await (const message of readMessages(this.logStream(), subject, 1)) {
      if (message.seq > last.seq) break;
      events.push(...decode(streamName, message));
    }
    return { events, version: versionOf(last.seq) };
  }

  async readAll(options: { after?: number; limit?: number } = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const { after = 0, limit } = options;
    checkReadRange(after, limit);
    const events: RecordedEvent[] = [];
    if (limit === 0) return events;
    // A small read (a follower's lag probe asks for one event) pulls no more than it may need:
    // every message holds at least one event, and the first may hold only earlier ones.
    const batchHint = limit === undefined ? PULL_BATCH : limit + 1;
    // The log's end, from the stream: every message of the stream is the log's, so the read ends
    // there, whatever the consumer's pending counts say (see `read`).
    const lastSequence = (await this.jsm.streams.info(this.streamName)).state.last_seq;
    const startSequence = firstSequenceAfter(after);
    if (startSequence > lastSequence) return events;
    for await (const message of readMessages(this.logStream(), `${this.subjectPrefix}.>`, startSequence, batchHint, lastSequence)) {
      events.push(...this.decode(message).filter((event) => event.position > after));
      if (limit !== undefined && events.length >= limit) break;
    }
    return limit === undefined ? events : events.slice(0, limit);
  }

  /**
   * Every subscription of this store shares one ordered consumer (shared-feed.ts): the followers
   * of a service get each event from nats-server once, decoded once.
   */
  subscribeToAll(handler: (event: RecordedEvent) => Promise<void> | void, options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    checkReadRange(options.after ?? 0, undefined);
    return this.feed.subscribe(handler, options);
  }

  /**
   * The position of the last event: the last message's sequence and how many events it holds
   * (every message of the log's stream holds events, deny_delete keeps them all).
   */
  async headPosition(): Promise<number> {
    this.assertOpen();
    const lastSequence = (await this.jsm.streams.info(this.streamName)).state.last_seq;
    if (lastSequence === 0) return 0;
    const last = await this.jsm.streams.getMessage(this.streamName, { seq: lastSequence });
    if (last === null) throw new Error(`the log's last message (${lastSequence}) cannot be read`);
    return lastSequence * EVENTS_PER_MESSAGE + last.json<StoredEvent[]>().length - 1;
  }

  /** A catch-up subscription on its own ordered consumer: what the shared feed runs. */
  private consumerSubscription(handler: (event: RecordedEvent) => Promise<void> | void, options: SubscribeOptions): Subscription {
    const after = options.after ?? 0;
    const subscription = new ConsumerSubscription(
      async () => (await this.jsm.streams.info(this.streamName)).state.last_seq,
      () => orderedConsumer(this.logStream(), `${this.subjectPrefix}.>`, firstSequenceAfter(after)),
      (message) => this.decode(message).filter((event) => event.position > after),
      handler,
      options,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async ping(): Promise<void> {
    this.assertOpen();
    // A request sent now would wait for its timeout: say at once that the store is unreachable.
    if (!this.connection.connected) throw new Error('not connected to NATS (reconnecting)');
    // One that is in flight when the connection drops fails then, not after its timeout.
    await this.connection.unlessDropped(this.jsm.streams.info(this.streamName));
  }

  /**
   * Stops the subscriptions and drains the connection, which needs the server: while the
   * connection is down (or when draining takes too long) the connection is closed outright.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed.close();
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    if (this.connection.connected) {
      const drained = this.nc.drain().catch(() => undefined);
      const timeout = new AbortController();
      await Promise.race([drained, sleep(CLOSE_DRAIN_MS, undefined, { signal: timeout.signal }).catch(() => undefined)]);
      timeout.abort();
    }
    if (!this.nc.isClosed()) await this.nc.close();
    this.publisher.close();
  }

  private subjectOf(streamName: string): string {
    if (streamName === '') throw new RangeError('a stream name must not be empty');
    const subject = logSubject(this.subjectPrefix, streamName);
    if (subject.length > MAX_SUBJECT_LENGTH) {
      throw new RangeError(
        `stream name too long for JetStream: its subject has ${subject.length} characters, at most ${MAX_SUBJECT_LENGTH} fit`,
      );
    }
    return subject;
  }

  private decode(message: LogMessage): RecordedEvent[] {
    return decode(streamNameOfSubject(message.subject), message);
  }

  /**
   * The tail to append after, without a round trip when it is known: a new stream has none, and
   * a version this store read or wrote names its tail. Otherwise (or for 'any') it is looked up.
   */
  private async knownTail(subject: string, expected: ExpectedVersion): Promise<Tail | null> {
    if (expected === 'no_stream') return null;
    const tail = this.tails.get(subject);
    if (tail && expected === versionOf(tail.seq)) return tail;
    return this.lastMessage(subject);
  }

  private remember(subject: string, tail: Tail): void {
    this.tails.delete(subject);
    this.tails.set(subject, tail);
    if (this.tails.size > TAIL_CACHE_SIZE) this.tails.delete(this.tails.keys().next().value!);
  }

  /** The subject's last message, by a STREAM.MSG.GET `last_by_subj` request. */
  private async lastMessage(subject: string): Promise<Tail | null> {
    const stored = await this.jsm.streams.getMessage(this.streamName, { last_by_subj: subject });
    if (stored === null) return null;
    return {
      seq: stored.seq,
      firstIndex: streamIndexOf(stored.header),
      count: stored.json<StoredEvent[]>().length,
    };
  }

  private logStream(): LogStreamAccess {
    return { js: this.js, streamName: this.streamName };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

/** Position of the first event after `after` lives in this message or a later one. */
function firstSequenceAfter(after: number): number {
  return Math.max(1, Math.floor(after / EVENTS_PER_MESSAGE));
}

function decode(streamName: string, message: LogMessage): RecordedEvent[] {
  const firstIndex = streamIndexOf(message.headers);
  return (JSON.parse(message.text) as StoredEvent[]).map((stored, i) => ({
    streamName,
    streamIndex: firstIndex + i,
    position: message.seq * EVENTS_PER_MESSAGE + i,
    type: stored.type,
    schemaVersion: stored.schemaVersion,
    hash: stored.hash,
    data: stored.data,
    metadata: stored.metadata,
  }));
}

function toStored(event: NewEvent): StoredEvent {
  return {
    type: event.type,
    schemaVersion: event.schemaVersion,
    hash: event.hash,
    data: event.data,
    metadata: event.metadata,
  };
}

function streamIndexOf(hdrs: MsgHdrs | undefined): number {
  const value = hdrs?.get(STREAM_INDEX_HEADER);
  if (!value) throw new Error(`JetStream message without ${STREAM_INDEX_HEADER} header: not written by this store`);
  return Number(value);
}

const versionOf = (seq: number) => String(seq) as StreamVersion;
