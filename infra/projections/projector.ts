import type { Logger } from 'pino';
import type { EventStore, RecordedEvent, Subscription } from '../event-store/port.js';
import {
  PoisonEventError,
  asPoison,
  backoffMs,
  followerStatus,
  pause,
  type Follower,
  type FollowerState,
  type FollowerStatus,
} from '../followers/follower.js';
import { registerFollower } from '../followers/registry.js';
import { followerFailures } from '../metrics/metrics.js';
import { CheckpointLostError, ProjectionWriteRejectedError, type ProjectionStore, type ProjectionWrite } from './port.js';

export interface ProjectorOptions {
  /** Checkpoint name; also identifies the projector. */
  name: string;
  eventStore: EventStore;
  projectionStore: ProjectionStore;
  /** Pure: the same event always gives the same writes. A throw marks the event as poison. */
  project: (event: RecordedEvent) => ProjectionWrite[];
  logger?: Logger;
  /** Backoff after a failure of the target or the log: from `minMs`, doubling, up to `maxMs`. */
  backoff?: { minMs: number; maxMs: number };
  /**
   * How often a projector with nothing to apply checks that its target still holds its
   * checkpoint (an empty restart of Redis loses it without any write failing). Default 1 s.
   */
  checkIntervalMs?: number;
  /**
   * How long the checkpoint of events that project nothing may wait before it is written
   * (default 200 ms). Such an event needs no write of its own: the projector moves on, and writes
   * the checkpoint with its next write, on catching up, on stopping, or after this delay, whichever
   * comes first. Under load that is one write per delay instead of one per event (issue 12); a
   * restart replays at most that much more of the log, which position-guarded writes make harmless.
   */
  checkpointDelayMs?: number;
}

export interface Projector extends Follower {
  /**
   * Resolves once every event stored at start has been applied; rejects with a
   * PoisonEventError if an event cannot be applied before that; stays pending while the target
   * is down (the projector keeps retrying) and if the projector is stopped first.
   */
  caughtUp: Promise<void>;
  /**
   * The checkpoint last written to the target. At most `status().position`: the events after it
   * projected nothing, so a target holding at least this checkpoint is complete up to the position.
   */
  writtenCheckpoint(): number;
  stop(): Promise<void>;
}

/** The target lost state while the projector was idle: found by the periodic check. */
class CheckpointWentBack extends Error {}

/**
 * Keeps a projection up to date from `$all`, resuming after its checkpoint (DESIGN §6), and
 * recovering by itself:
 *
 * - A failure of the target (Redis unreachable) or of the log read ends the current
 *   subscription; the projector waits (exponential backoff) and resubscribes after the
 *   checkpoint the target holds. Writes are position-guarded, so applying an event twice is
 *   harmless, and a failed write-through is applied here in its turn: it is never lost.
 * - Every apply carries the position the projector already reached (`expectAtLeast`), and an
 *   idle projector reads its checkpoint every `checkIntervalMs`: a target whose checkpoint went
 *   back (an empty restart, a failover, an older snapshot) is noticed, measured and rebuilt from
 *   the log from where its checkpoint now is (0 when empty), without a restart of the process.
 * - An event its projection throws on is a poison event: retrying cannot help, so the projector
 *   stops there, loudly (state `failed`, an error log with the position, a metric, readiness
 *   fails) and does not spin.
 * - An event that projects nothing writes nothing at once: its checkpoint is deferred
 *   (`checkpointDelayMs`). Every event with writes still writes its checkpoint with them, so
 *   the checkpoint never falls below the last write (what the floor of CheckpointedApply needs).
 */
export function startProjector(options: ProjectorOptions): Projector {
  return new ResilientProjector(options);
}

class ResilientProjector implements Projector {
  readonly name: string;
  readonly eventStore: EventStore;
  readonly caughtUp: Promise<void>;
  private state: FollowerState = 'starting';
  /** The position of the last event handled (applied, or found to project nothing). */
  private position = 0;
  /** The checkpoint last written to the target (or read from it): at most `position`. */
  private persisted = 0;
  /** The event time of the last event handled, for the deferred checkpoint's write. */
  private positionTime: number | undefined;
  /** Writes to the target, one at a time: the subscription's and the deferred checkpoint's. */
  private writing: Promise<void> = Promise.resolve();
  private lastError: string | undefined;
  private poison: FollowerStatus['poison'];
  private isCaughtUp = false;
  /** Applied an event or caught up since the last failure. */
  private recovered = false;
  private resolveCaughtUp!: () => void;
  private rejectCaughtUp!: (error: unknown) => void;
  private readonly stopSignal = new AbortController();
  private readonly loop: Promise<void>;
  private readonly unregister: () => void;

  constructor(private readonly options: ProjectorOptions) {
    this.name = options.name;
    this.eventStore = options.eventStore;
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.resolveCaughtUp = resolve;
      this.rejectCaughtUp = reject;
    });
    this.caughtUp.catch(() => {}); // reported through status and the log too; awaiting is optional
    this.unregister = registerFollower(this);
    this.loop = this.run();
  }

  status(): FollowerStatus {
    const { name, state, position, lastError, poison } = this;
    return followerStatus({ name, state, position, lastError, poison });
  }

  writtenCheckpoint(): number {
    return this.persisted;
  }

  async stop(): Promise<void> {
    this.stopSignal.abort();
    await this.loop;
    // What was handled is not handled again after a restart; a target that is down replays it then.
    await this.writeCheckpoint().catch(() => undefined);
    if (this.state !== 'failed') this.state = 'stopped';
    this.unregister();
  }

  private async run(): Promise<void> {
    const { minMs = 100, maxMs = 5_000 } = this.options.backoff ?? {};
    const stopped = this.stopSignal.signal;
    let failures = 0;
    while (!stopped.aborted) {
      try {
        const checkpoint = await this.options.projectionStore.checkpoint(this.name);
        if (checkpoint < this.persisted) {
          this.options.logger?.warn(
            { projector: this.name, checkpoint, applied: this.persisted, missing: this.persisted - checkpoint },
            'projection store lost state: rebuilding from its checkpoint',
          );
        }
        this.position = checkpoint;
        this.persisted = checkpoint;
        this.positionTime = undefined;
        await this.follow(checkpoint, stopped);
      } catch (error) {
        if (stopped.aborted) break;
        // Backoff counts consecutive failures: one that follows a healthy stretch starts over.
        if (this.recovered) failures = 0;
        this.recovered = false;
        const poison = asPoison(error);
        if (poison) {
          this.failFor(poison);
          return;
        }
        failures++;
        const kind = error instanceof CheckpointLostError || error instanceof CheckpointWentBack ? 'checkpoint_lost' : 'target';
        followerFailures.inc({ follower: this.name, kind });
        this.state = 'retrying';
        this.lastError = error instanceof Error ? error.message : String(error);
        // A first loss is rebuilt at once; repeated losses (an evicting Redis, two deployments
        // on one key prefix) back off like any failure rather than replay the log in a loop.
        const delay = kind === 'checkpoint_lost' && failures === 1 ? 0 : backoffMs(failures, minMs, maxMs);
        this.options.logger?.warn({ projector: this.name, position: this.position, err: error, retryInMs: delay }, 'projection failed; resuming from the checkpoint');
        await pause(delay, stopped);
      }
    }
  }

  /** One subscription after `after`, until `stopped` (resolves) or a failure (rejects). */
  private async follow(after: number, stopped: AbortSignal): Promise<void> {
    const { eventStore, projectionStore, project } = this.options;
    let failed!: (error: unknown) => void;
    let onAbort!: () => void;
    const ended = new Promise<void>((resolve, reject) => {
      failed = reject;
      onAbort = resolve;
      stopped.addEventListener('abort', onAbort, { once: true });
      if (stopped.aborted) resolve();
    });
    this.state = 'catching_up';
    const deferred = new DeferredCheckpoint(this.options.checkpointDelayMs ?? 200, () => this.writeCheckpoint().catch(failed));
    const subscription: Subscription = eventStore.subscribeToAll(
      async (event) => {
        let writes: ProjectionWrite[];
        try {
          writes = project(event);
        } catch (error) {
          throw PoisonEventError.at(event, error);
        }
        if (writes.length === 0) {
          this.handled(event);
          deferred.schedule();
          return;
        }
        try {
          await this.write(writes, event.position, eventTime(event));
        } catch (error) {
          // The store refuses these writes as invalid, not for being down: they never will fit.
          if (error instanceof ProjectionWriteRejectedError) throw PoisonEventError.at(event, error);
          throw error;
        }
        this.handled(event);
      },
      {
        after,
        onCaughtUp: () => {
          // Caught up means checkpointed: a restart, a replica or a test finds the position written.
          this.writeCheckpoint().then(() => {
            if (stopped.aborted) return;
            this.recovered = true;
            this.state = 'live';
            this.lastError = undefined;
            if (!this.isCaughtUp) {
              this.isCaughtUp = true;
              this.resolveCaughtUp();
            }
          }, failed);
        },
        onError: failed,
      },
    );
    const watch = this.watchCheckpoint(stopped, failed);
    try {
      await ended;
    } finally {
      stopped.removeEventListener('abort', onAbort);
      clearInterval(watch);
      deferred.cancel();
      await subscription.stop();
    }
  }

  private handled(event: RecordedEvent): void {
    this.position = event.position;
    this.positionTime = eventTime(event);
    this.recovered = true;
    if (this.state === 'retrying') this.state = this.isCaughtUp ? 'live' : 'catching_up';
  }

  /** Writes to the target in turn, checkpointed at `position`, expecting the checkpoint last written. */
  private write(writes: ProjectionWrite[], position: number, at: number | undefined): Promise<void> {
    const run = this.writing.then(async () => {
      if (position <= this.persisted) return;
      await this.options.projectionStore.apply(writes, position, { name: this.name, expectAtLeast: this.persisted, at });
      this.persisted = position;
    });
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** Writes the checkpoint of the events handled since the last write, if any. */
  private writeCheckpoint(): Promise<void> {
    return this.write([], this.position, this.positionTime);
  }

  /** Every `checkIntervalMs`: did the target's checkpoint go back below what was applied? */
  private watchCheckpoint(stopped: AbortSignal, failed: (error: unknown) => void): NodeJS.Timeout {
    let checking = false;
    const timer = setInterval(() => {
      if (checking || stopped.aborted || this.state !== 'live') return;
      checking = true;
      const applied = this.persisted;
      this.options.projectionStore
        .checkpoint(this.name)
        .then((checkpoint) => {
          if (checkpoint < applied) failed(new CheckpointWentBack(`checkpoint ${this.name} went back from ${applied} to ${checkpoint}`));
        })
        .catch(failed)
        .finally(() => (checking = false));
    }, this.options.checkIntervalMs ?? 1_000);
    timer.unref();
    return timer;
  }

  private failFor(error: PoisonEventError): void {
    // The events before the poison were handled: a restart after a fix resumes at the poison.
    void this.writeCheckpoint().catch(() => undefined);
    this.state = 'failed';
    this.lastError = error.message;
    this.poison = error.poison;
    followerFailures.inc({ follower: this.name, kind: 'poison' });
    this.options.logger?.error(
      { projector: this.name, ...this.poison, err: error.cause },
      'projection stopped at an event it cannot apply (poison event): fix the projection or the log, then restart',
    );
    if (!this.isCaughtUp) this.rejectCaughtUp(error);
  }
}

/** The event's time (epoch ms) from its metadata, undefined if it has none: the clock of a collecting store. */
export function eventTime(event: RecordedEvent): number | undefined {
  const time = (event.metadata as { time?: unknown } | null | undefined)?.time;
  if (typeof time !== 'string') return undefined;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The one pending write of a deferred checkpoint: scheduled once, run after `delayMs`. */
class DeferredCheckpoint {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly write: () => void,
  ) {}

  schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, this.delayMs);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
