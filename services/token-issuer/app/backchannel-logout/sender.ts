import type { Logger } from 'pino';
import { EventMetadata } from '../../../../contracts/events/metadata.js';
import { GrantEvent } from '../../../../contracts/events/grant.js';
import { SessionEvent } from '../../../../contracts/events/session.js';
import type { EventStore, RecordedEvent, Subscription } from '../../../../infra/event-store/port.js';
import {
  PoisonEventError,
  asPoison,
  backoffMs,
  followerStatus,
  pause,
  type Follower,
  type FollowerState,
  type FollowerStatus,
} from '../../../../infra/followers/follower.js';
import { registerFollower } from '../../../../infra/followers/registry.js';
import { followerFailures } from '../../../../infra/metrics/metrics.js';
import type { ProjectionStore } from '../../../../infra/projections/port.js';
import { runDelivery, type DeliveryDeps } from './delivery-job.js';
import { addParticipant, participantsOf } from './participants.js';

/** How long the sender's checkpoint may wait before it is written. */
const CHECKPOINT_DELAY_MS = 200;

/** The sender's checkpoint (and follower) name. */
export const BACKCHANNEL_LOGOUT_CHECKPOINT = 'backchannel-logout';

export interface SenderDeps extends DeliveryDeps {
  projections: ProjectionStore;
}

/**
 * Back-Channel Logout 1.0 driven by the log, not by the HTTP request that ended the session: a
 * follower of `$all` that notes which clients took part in each session (codes issued under it)
 * and, at each `session.ended`, delivers a logout token to every one of them that registered a
 * backchannel_logout_uri (delivery-job.ts). Its checkpoint stays below the oldest logout not yet
 * delivered or abandoned, so after a crash or a restart it reads that `session.ended` again and
 * carries on from what the delivery's stream says: a crash between the event and the POST loses
 * nothing. Several senders (replicas) share the work through the delivery streams.
 */
export class BackchannelLogoutSender implements Follower {
  readonly name = BACKCHANNEL_LOGOUT_CHECKPOINT;
  readonly eventStore: EventStore;
  private state: FollowerState = 'starting';
  private position = 0;
  private lastError: string | undefined;
  private poison: FollowerStatus['poison'];
  private readonly stopSignal = new AbortController();
  /** Running deliveries by `<session>.<client>`, with the position of their session.ended. */
  private readonly running = new Map<string, { position: number; done: Promise<void> }>();
  private checkpointWritten = 0;
  private checkpointWrite: Promise<void> = Promise.resolve();
  /** The checkpoint to write when the pending timer fires (see advanceCheckpoint). */
  private checkpointTarget = 0;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private unregister: (() => void) | undefined;

  constructor(private readonly deps: SenderDeps) {
    this.eventStore = deps.store;
  }

  start(): void {
    this.unregister = registerFollower(this);
    this.loop = this.run();
  }

  status(): FollowerStatus {
    const { name, state, position, lastError, poison } = this;
    return followerStatus({ name, state, position, lastError, poison });
  }

  async stop(): Promise<void> {
    this.stopSignal.abort();
    await this.loop;
    await Promise.all([...this.running.values()].map((r) => r.done));
    this.writeCheckpoint();
    await this.checkpointWrite;
    if (this.state !== 'failed') this.state = 'stopped';
    this.unregister?.();
  }

  private async run(): Promise<void> {
    const stopped = this.stopSignal.signal;
    let failures = 0;
    while (!stopped.aborted) {
      try {
        const checkpoint = await this.deps.projections.checkpoint(this.name);
        this.position = Math.max(this.position, checkpoint);
        this.checkpointWritten = Math.max(this.checkpointWritten, checkpoint);
        await this.follow(checkpoint, stopped);
        failures = 0;
      } catch (error) {
        if (stopped.aborted) break;
        const poison = asPoison(error);
        if (poison) {
          this.state = 'failed';
          this.lastError = poison.message;
          this.poison = poison.poison;
          followerFailures.inc({ follower: this.name, kind: 'poison' });
          this.deps.logger.error({ follower: this.name, ...poison.poison, err: poison.cause }, 'back-channel logout sender stopped at an event it cannot read');
          return;
        }
        failures++;
        followerFailures.inc({ follower: this.name, kind: 'target' });
        this.state = 'retrying';
        this.lastError = error instanceof Error ? error.message : String(error);
        this.deps.logger.warn({ follower: this.name, err: error }, 'back-channel logout sender failed; resuming from its checkpoint');
        await pause(backoffMs(failures), stopped);
      }
    }
  }

  private async follow(after: number, stopped: AbortSignal): Promise<void> {
    let failed!: (error: unknown) => void;
    let onAbort!: () => void;
    const ended = new Promise<void>((resolve, reject) => {
      failed = reject;
      onAbort = resolve;
      stopped.addEventListener('abort', onAbort, { once: true });
      if (stopped.aborted) resolve();
    });
    this.state = 'catching_up';
    const subscription: Subscription = this.deps.store.subscribeToAll(
      async (event) => {
        await this.handle(event);
        this.position = event.position;
        this.advanceCheckpoint();
      },
      {
        after,
        onCaughtUp: () => {
          this.state = 'live';
          this.lastError = undefined;
        },
        onError: failed,
      },
    );
    try {
      await ended;
    } finally {
      stopped.removeEventListener('abort', onAbort);
      await subscription.stop();
    }
  }

  private async handle(event: RecordedEvent): Promise<void> {
    // The grants that name a session: a code (with or without front-channel tokens), or implicit tokens.
    if (event.type !== 'authorization_code.issued' && event.type !== 'implicit.granted' && event.type !== 'session.ended') return;
    let parsed: { event: GrantEvent | SessionEvent; meta: EventMetadata };
    try {
      const body = { type: event.type, schemaVersion: event.schemaVersion, data: event.data };
      parsed = { event: event.type === 'session.ended' ? SessionEvent.parse(body) : GrantEvent.parse(body), meta: EventMetadata.parse(event.metadata) };
    } catch (error) {
      throw PoisonEventError.at(event, error);
    }
    const { event: domainEvent, meta } = parsed;
    if (meta.tenant !== this.deps.tenant) return;
    if (domainEvent.type === 'authorization_code.issued' || domainEvent.type === 'implicit.granted') {
      await addParticipant(this.deps.projections, this.name, {
        tenant: meta.tenant,
        sessionId: domainEvent.data.sessionId,
        clientId: domainEvent.data.clientId,
        position: event.position,
        time: Date.parse(meta.time),
      });
      return;
    }
    if (domainEvent.type !== 'session.ended') return;
    const { sessionId, sub } = domainEvent.data;
    for (const clientId of await participantsOf(this.deps.projections, meta.tenant, sessionId)) {
      const key = `${sessionId}.${clientId}`;
      if (this.running.has(key)) continue;
      const done = runDelivery(this.deps, { sessionId, sub, clientId, causationId: meta.eventId }, this.stopSignal.signal).then(
        (result) => {
          // Stopped before it finished: it keeps holding the checkpoint back, so the next start resumes it.
          if (result !== 'finished') return;
          this.running.delete(key);
          this.advanceCheckpoint();
        },
        (error: unknown) => this.deps.logger.error({ sessionId, clientId, err: error }, 'back-channel logout delivery failed unexpectedly; resumed at the next start'),
      );
      this.running.set(key, { position: event.position, done });
    }
  }

  /**
   * The checkpoint is the last event read, but never past a logout still being delivered: just
   * below the oldest one, so a restart reads its session.ended again. Written in order, forward
   * only, and at most once per CHECKPOINT_DELAY_MS (and on stopping): nearly every event is one
   * the sender only reads past, and a restart that reads those again does nothing with them.
   */
  private advanceCheckpoint(): void {
    const oldest = Math.min(...[...this.running.values()].map((r) => r.position));
    this.checkpointTarget = Number.isFinite(oldest) ? Math.min(this.position, oldest - 1) : this.position;
    if (this.checkpointTarget <= this.checkpointWritten) return;
    this.checkpointTimer ??= setTimeout(() => this.writeCheckpoint(), CHECKPOINT_DELAY_MS);
  }

  private writeCheckpoint(): void {
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    const target = this.checkpointTarget;
    if (target <= this.checkpointWritten) return;
    this.checkpointWritten = target;
    this.checkpointWrite = this.checkpointWrite
      .then(() => this.deps.projections.apply([], target, this.name))
      .catch((error: unknown) => this.deps.logger.warn({ follower: this.name, err: error }, 'back-channel logout checkpoint not written; it will be next time'));
  }
}
