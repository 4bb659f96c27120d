/**
 * The live stream (DESIGN §9): every event of the log, in `$all` order, as a CloudEvent on the
 * JetStream stream IDP_EVENTS, so that a consumer can resume from a stream sequence without gaps
 * or duplicates. Its data is the event's allow-listed projection (contracts/events/published.ts):
 * no hash of a secret, no key material, no sealed blob; none at all for an unknown type.
 *
 * Correctness does not rest on leader election. The relay resumes after the `Idp-Position` of the
 * stream's last message and publishes every event with `Nats-Expected-Last-Sequence` set to the
 * sequence it believes is last; JetStream stores the message only if that still holds (checked
 * under the stream's lock) and otherwise answers error 10071 "wrong last sequence" and stores
 * nothing. So message n+1 is always the event after message n in `$all`, whoever publishes it;
 * a relay that loses such a race reads the stream's last message again and carries on from there.
 * `Nats-Msg-Id` (`idp-position-<position>`) adds JetStream's deduplication: within the stream's
 * duplicate_window, a message whose id was stored already is dropped and acknowledged with
 * `duplicate: true`, which the relay treats like a lost race. The id is the event's `$all`
 * position, not its event id: positions are unique by construction, event ids only by
 * convention, and two events sharing an id would otherwise look like a race lost for ever.
 *
 * The relay is a follower (infra/followers): it reports its state, position and lag to readiness
 * and /metrics. NATS failures make it retry with backoff; an event it cannot turn into a
 * CloudEvent (a poison event) stops it there, loudly, without spinning.
 *
 * Leader election only keeps the normal case quiet: a lease in a NATS KV bucket whose max age
 * (the bucket TTL) is the lease time. `create` succeeds only while no live lease exists; the
 * leader renews with `update(key, value, revision)` (an expected-last-subject-sequence write)
 * every ttl/3, and stops relaying as soon as a renewal fails. Followers retry `create` every
 * ttl/3; `stop()` deletes the lease (only if still ours) so one of them takes over at once.
 *
 * Limits: the stream keeps every message (the last one is the relay's resume point), so it is
 * created with deny_delete and deny_purge; rebuilding it means deleting the whole stream, which
 * the relay then recreates and fills from the start of the log.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
  type StreamInfo,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import type { EventStore, RecordedEvent } from '../event-store/port.js';
import { eventIdOf } from '../event-store/event-id.js';
import { PoisonEventError, asPoison, followerStatus, type Follower, type FollowerState, type FollowerStatus } from '../followers/follower.js';
import { registerFollower } from '../followers/registry.js';
import { createLogger } from '../log/logger.js';
import { followerFailures } from '../metrics/metrics.js';
import { DEFAULT_SUBJECT_PREFIX, toCloudEvent } from './cloudevent.js';
import { JetStreamAcks, type JetStreamAck } from '../bus/jetstream-acks.js';
import { JETSTREAM_NAMES } from '../bus/jetstream-names.js';
import type { NatsConnectionOptions } from '../bus/nats-connection-options.js';

export const POSITION_HEADER = 'Idp-Position';
const LEASE_KEY = 'event-relay';
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 5_000;
/** How long one publish waits for JetStream's acknowledgement (nats.js' default for `js.publish`). */
const PUBLISH_TIMEOUT_MS = 5_000;

export interface EventRelayOptions {
  store: EventStore;
  natsUrl: string;
  /** Credentials and TLS of the relay's connection (IDP_NATS_SEED, …); anonymous without. */
  connection?: NatsConnectionOptions;
  /** Default 'IDP_EVENTS'. */
  streamName?: string;
  /** Default 'idp.events'; the stream takes `<prefix>.>`. */
  subjectPrefix?: string;
  logger?: Logger;
  /** KV bucket of the lease, default 'idp_leases'. */
  leaseBucket?: string;
  /** How long a lease lives without renewal, default 10 s; renewed every third of it. */
  leaseTtlMs?: number;
  /** JetStream's Nats-Msg-Id deduplication window of a newly created stream, default 2 min. */
  duplicateWindowMs?: number;
}

/** Someone else published since this relay last looked at the stream: re-sync, no error. */
class StreamMoved extends Error {}

/** The stream's last message is not the log's event it claims to be: the relay cannot resume. */
class StreamNotOurs extends Error {}

function parseCloudEventId(text: string | undefined): string | undefined {
  try {
    const id = (JSON.parse(text ?? '') as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

interface Session {
  controller: AbortController;
  done: Promise<void>;
}

export class EventRelay implements Follower {
  readonly name = 'event-relay';
  private readonly stopSignal = new AbortController();
  private state: FollowerState = 'standby';
  private lastError: string | undefined;
  private poison: FollowerStatus['poison'];
  private unregister: () => void = () => {};
  private leaseRevision: number | undefined;
  private session: Session | undefined;
  private campaign: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private position = 0;
  private published = 0;

  private constructor(
    private readonly id: string,
    private readonly nc: NatsConnection,
    private readonly acks: JetStreamAcks,
    private readonly jsm: JetStreamManager,
    private readonly kv: KV,
    readonly eventStore: EventStore,
    private readonly streamName: string,
    private readonly subjectPrefix: string,
    private readonly duplicateWindowMs: number,
    private readonly renewMs: number,
    private readonly log: Logger,
  ) {}

  static async start(options: EventRelayOptions): Promise<EventRelay> {
    const leaseTtlMs = options.leaseTtlMs ?? 10_000;
    const renewMs = Math.floor(leaseTtlMs / 3);
    const id = randomUUID();
    const log = (options.logger ?? createLogger({ name: 'event-relay' })).child({ component: 'event-relay', relay: id });
    // Reconnects for ever: a NATS outage pauses the relay, it does not end it.
    // No async traces: nats.js would build an Error for the stack of each request (issue 12).
    const nc = await connect({ ...options.connection, servers: options.natsUrl, name: 'idp-event-relay', maxReconnectAttempts: -1, noAsyncTraces: true });
    try {
      // Lease operations time out within one renew period, so that a leader whose renewal
      // hangs steps down before its lease can expire and another relay take over.
      const kv = await new Kvm(jetstream(nc, { timeout: renewMs })).create(options.leaseBucket ?? JETSTREAM_NAMES.leasesBucket, {
        ttl: leaseTtlMs,
        history: 1,
      });
      const relay = new EventRelay(
        id,
        nc,
        new JetStreamAcks(nc, options.connection?.inboxPrefix),
        await jetstreamManager(nc),
        kv,
        options.store,
        options.streamName ?? JETSTREAM_NAMES.events,
        options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX,
        options.duplicateWindowMs ?? 120_000,
        renewMs,
        log,
      );
      await relay.ensureStream();
      relay.unregister = registerFollower(relay);
      relay.watchConnection();
      relay.campaign = relay.runCampaign();
      return relay;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  status(): FollowerStatus {
    const { name, state, position, lastError, poison } = this;
    return followerStatus({ name, state, position, lastError, poison });
  }

  isLeader(): boolean {
    return this.leaseRevision !== undefined;
  }

  /** `$all` position of the stream's last message as this relay last saw or published it; 0 before. */
  lastPublishedPosition(): number {
    return this.position;
  }

  /** Stops relaying, gives the lease up and closes the connection. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopSignal.abort();
      await this.campaign;
      await this.nc.close();
      this.acks.close(new Error('the event relay is stopped'));
      this.state = this.state === 'failed' ? 'failed' : 'stopped';
      this.unregister();
    })();
    return this.stopping;
  }

  private async runCampaign(): Promise<void> {
    const stopped = this.stopSignal.signal;
    while (!stopped.aborted) {
      await this.holdLease();
      await pause(this.renewMs, stopped);
    }
    await this.stepDown();
    if (this.leaseRevision !== undefined) {
      // With previousSeq, the delete fails rather than remove a lease someone else holds by now.
      await this.kv
        .delete(LEASE_KEY, { previousSeq: this.leaseRevision })
        .catch((error: unknown) => this.log.warn({ err: error }, 'could not give the lease up; it expires on its own'));
      this.leaseRevision = undefined;
    }
  }

  /** Takes the lease if it is free, renews it if it is ours. */
  private async holdLease(): Promise<void> {
    try {
      if (this.leaseRevision === undefined) {
        this.leaseRevision = await this.kv.create(LEASE_KEY, JSON.stringify({ relay: this.id }));
        this.log.info('took the event relay lease');
        // A relay that failed stays failed (and keeps the lease, so no other relay meets the
        // same event) until it is fixed and restarted.
        if (this.state !== 'failed') this.startRelaying();
      } else {
        this.leaseRevision = await this.kv.update(LEASE_KEY, JSON.stringify({ relay: this.id }), this.leaseRevision);
      }
    } catch (error) {
      if (this.leaseRevision !== undefined) {
        this.leaseRevision = undefined;
        this.log.warn({ err: error }, 'lost the event relay lease: stop relaying');
        await this.stepDown();
      } else if (!isWrongLastSequence(error)) {
        // Wrong last sequence is the normal answer while another relay holds the lease.
        this.log.warn({ err: error }, 'lease bucket unavailable; retrying');
      }
    }
  }

  private startRelaying(): void {
    const controller = new AbortController();
    this.state = 'catching_up';
    this.session = { controller, done: this.relay(controller.signal) };
  }

  private async stepDown(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    session.controller.abort();
    await session.done;
    if (this.state !== 'failed') this.state = 'standby';
  }

  /** Relays until `signal` aborts, syncing with the stream again after every lost race or failure. */
  private async relay(signal: AbortSignal): Promise<void> {
    let idle = 0;
    while (!signal.aborted) {
      const before = this.published;
      try {
        await this.relayFromStreamEnd(signal);
      } catch (error) {
        const poison = asPoison(error);
        if (poison || error instanceof StreamNotOurs) {
          // Retrying cannot help: stop here, loudly, keeping the lease so that no other relay
          // spins on the same event either.
          this.state = 'failed';
          this.lastError = (error as Error).message;
          this.poison = poison?.poison;
          followerFailures.inc({ follower: this.name, kind: 'poison' });
          this.log.error(
            { ...this.poison, err: poison ? poison.cause : error },
            poison ? 'event relay stopped at an event it cannot publish (poison event)' : 'event relay stopped: IDP_EVENTS does not continue the log',
          );
          return;
        }
        if (error instanceof StreamMoved) this.log.info({ reason: error.message }, 're-syncing with the stream');
        else {
          this.state = 'retrying';
          this.lastError = error instanceof Error ? error.message : String(error);
          followerFailures.inc({ follower: this.name, kind: 'target' });
          this.log.warn({ err: error }, 'relaying failed; retrying');
        }
      }
      // Without progress, back off: NATS may be down, or another relay keeps winning the race.
      idle = this.published > before ? 0 : idle + 1;
      if (idle > 0) await pause(Math.min(MIN_BACKOFF_MS * 2 ** (idle - 1), MAX_BACKOFF_MS), signal);
    }
  }

  /** Publishes every event after the stream's last message until a race is lost, a failure, or `signal`. */
  private async relayFromStreamEnd(signal: AbortSignal): Promise<void> {
    const last = await this.lastMessage();
    this.position = last.position;
    let expectedSeq = last.seq;

    let ended!: () => void;
    let failed!: (error: unknown) => void;
    const outcome = new Promise<void>((resolve, reject) => ((ended = resolve), (failed = reject)));
    const subscription = this.eventStore.subscribeToAll(
      async (event) => {
        if (signal.aborted) return;
        expectedSeq = await this.publish(event, expectedSeq);
        this.position = event.position;
        this.published++;
        if (this.state === 'retrying') this.state = 'catching_up';
      },
      {
        after: last.position,
        onCaughtUp: () => {
          this.state = 'live';
          this.lastError = undefined;
        },
        onError: failed,
      },
    );
    signal.addEventListener('abort', ended, { once: true });
    if (signal.aborted) ended();
    try {
      await outcome;
    } finally {
      signal.removeEventListener('abort', ended);
      await subscription.stop();
    }
  }

  /** Publishes one event as the message after `expectedSeq`; resolves with its sequence. */
  private async publish(event: RecordedEvent, expectedSeq: number): Promise<number> {
    let cloudEvent: ReturnType<typeof toCloudEvent>;
    try {
      cloudEvent = toCloudEvent(event, this.subjectPrefix);
    } catch (error) {
      throw PoisonEventError.at(event, error);
    }
    const { subject, data } = cloudEvent;
    const hdrs = headers();
    hdrs.set(POSITION_HEADER, String(event.position));
    // CloudEvents NATS binding: a CloudEvents media type in Content-Type marks structured mode,
    // the payload being the whole event in the JSON format.
    hdrs.set('Content-Type', 'application/cloudevents+json');
    let ack: JetStreamAck;
    try {
      ack = await this.acks.publish(subject, JSON.stringify(data), {
        headers: hdrs,
        msgID: messageIdOf(event), // Nats-Msg-Id
        expect: { lastSequence: expectedSeq }, // Nats-Expected-Last-Sequence
        timeoutMs: PUBLISH_TIMEOUT_MS,
      });
    } catch (error) {
      if (isWrongLastSequence(error)) throw new StreamMoved(`another relay published after message ${expectedSeq}`);
      throw error;
    }
    if (ack.duplicate) throw new StreamMoved(`position ${event.position} is message ${ack.seq} already`);
    return ack.seq;
  }

  /** Sequence and `$all` position of the stream's last message; both 0 when it is empty. */
  private async lastMessage(): Promise<{ seq: number; position: number }> {
    const seq = (await this.ensureStream()).state.last_seq;
    if (seq === 0) return { seq: 0, position: 0 };
    const message = await this.jsm.streams.getMessage(this.streamName, { seq });
    const position = Number(message?.header?.get(POSITION_HEADER));
    if (!Number.isSafeInteger(position) || position < 1) {
      throw new StreamNotOurs(`message ${seq} of ${this.streamName} has no ${POSITION_HEADER} header: not published by a relay`);
    }
    // The relay resumes after this message: it must be the log's event at that position, or a
    // message planted on the stream could make it skip events (or stall) without a trace.
    const [event] = await this.eventStore.readAll({ after: position - 1, limit: 1 });
    const id = parseCloudEventId(message?.string());
    if (event?.position !== position || id === undefined || id !== eventIdOf(event.metadata)) {
      throw new StreamNotOurs(`message ${seq} of ${this.streamName} claims position ${position}, where the log has ${event?.position === position ? `event ${eventIdOf(event.metadata)}` : 'no event'}`);
    }
    return { seq, position };
  }

  private async ensureStream(): Promise<StreamInfo> {
    const subjects = `${this.subjectPrefix}.>`;
    try {
      const info = await this.jsm.streams.info(this.streamName);
      if (!info.config.subjects?.includes(subjects)) {
        throw new Error(`JetStream stream ${this.streamName} exists but does not take ${subjects}`);
      }
      return info;
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
      // Adding a stream that exists with the same configuration succeeds, so racing relays agree.
      return this.jsm.streams.add({
        name: this.streamName,
        subjects: [subjects],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        max_msgs: -1,
        max_bytes: -1,
        max_age: 0,
        duplicate_window: nanos(this.duplicateWindowMs),
        deny_delete: true,
        deny_purge: true,
      });
    }
  }

  private watchConnection(): void {
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === 'disconnect') this.log.warn({ server: status.server }, 'NATS connection lost; reconnecting');
        if (status.type === 'reconnect') this.log.info({ server: status.server }, 'NATS connection back');
      }
    })();
  }
}

/** The JetStream message id of the event at `position`: unique in the log by construction. */
export function messageIdOf(event: Pick<RecordedEvent, 'position'>): string {
  return `idp-position-${event.position}`;
}

function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence;
}

/** Waits `ms`, or less if `signal` aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => undefined);
}
