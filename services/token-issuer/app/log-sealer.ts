import type { Logger } from 'pino';
import { LogCheckpointSealedV1, LogEvent, type LogCheckpointSealed } from '../../../contracts/events/log.js';
import { streams } from '../../../contracts/streams.js';
import type { TenantId } from '../../../contracts/tenant.js';
import type { EventStore, RecordedEvent, Subscription } from '../../../infra/event-store/port.js';
import { asPoison, backoffMs, followerStatus, pause, type Follower, type FollowerState, type FollowerStatus } from '../../../infra/followers/follower.js';
import { registerFollower } from '../../../infra/followers/registry.js';
import { followerFailures } from '../../../infra/metrics/metrics.js';
import { handleCommand } from '../../shared/app/command-handler.js';
import { writeAnchorFile } from '../../shared/integrity/anchor.js';
import { foldEvent, RUNNING_HASH_START, type RunningHashState } from '../../shared/integrity/running-hash.js';
import { sealSignatureValid, signSeal, type SealKey } from '../../shared/integrity/seal-key.js';
import { logSealDecider } from '../domain/log-seal/log-seal.js';

/** The sealer's follower name (in /readyz and /metrics). */
export const LOG_SEALER = 'log-sealer';

export interface LogSealerOptions {
  store: EventStore;
  tenant: TenantId;
  /** From deriveKey(kek, 'log-seal'): the same key on every replica. */
  key: SealKey;
  /** Where the latest seal is written outside the store (IDP_LOG_ANCHOR_FILE); none: not written. */
  anchorFile?: string | undefined;
  /** Seal at least this often when anything new was appended (IDP_LOG_SEAL_INTERVAL); 0: only by count or `sealNow`. */
  intervalMs: number;
  /** Seal as soon as this many new events were appended (IDP_LOG_SEAL_EVERY). */
  everyEvents: number;
  logger: Logger;
  clock: () => Date;
}

const SEAL_TYPE = LogCheckpointSealedV1.shape.type.value;

/**
 * Seals the log (DESIGN §4): follows `$all`, keeps the running hash incrementally, and every
 * `intervalMs` or `everyEvents` new events appends a `log.checkpoint_sealed` to `log-<tenant>`
 * with its expected version, then writes the anchor file. Two replicas racing write one seal:
 * the loser re-reads the stream, finds a seal as far as its own, and appends nothing.
 *
 * At start it resumes from the stream's last seal that its own key signed (no full replay of
 * the log), so a restart costs one read of the seal stream. Seals do not count as "new": a log
 * with nothing but its last seal after the last sealed position is not sealed again (otherwise
 * each seal would call for the next one, and two tenants' sealers would answer each other).
 */
export class LogSealer implements Follower {
  readonly name = LOG_SEALER;
  readonly eventStore: EventStore;
  private state: FollowerState = 'starting';
  private running: RunningHashState = RUNNING_HASH_START;
  /** Events other than seals folded in since the last seal covered them. */
  private unsealed = 0;
  private lastNonSealPosition = 0;
  /** Position of the seal event last written to the anchor file. */
  private anchoredSeal = 0;
  private lastError: string | undefined;
  private poison: FollowerStatus['poison'];
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sealing: Promise<RecordedEvent | null> = Promise.resolve(null);
  private unregister: (() => void) | undefined;
  private ready!: () => void;
  private readonly started = new Promise<void>((resolve) => (this.ready = resolve));

  constructor(private readonly options: LogSealerOptions) {
    this.eventStore = options.store;
  }

  start(): void {
    this.unregister = registerFollower(this);
    this.loop = this.run();
    if (this.options.intervalMs > 0) {
      this.timer = setInterval(() => void this.sealIfNew().catch(() => {}), this.options.intervalMs);
      this.timer.unref();
    }
  }

  status(): FollowerStatus {
    const { name, state, lastError, poison } = this;
    return followerStatus({ name, state, position: this.running.position, lastError, poison });
  }

  /**
   * Seals everything appended up to now, at once: waits until the sealer has folded the log's
   * head, then seals if anything is new. Resolves with the seal appended, or null. For tests,
   * benchmarks and shutdown; the interval and the count do the same in the background.
   */
  async sealNow(timeoutMs = 10_000): Promise<RecordedEvent | null> {
    await this.started;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [next] = await this.options.store.readAll({ after: this.running.position, limit: 1 });
      if (!next) break;
      if (Date.now() > deadline) throw new Error(`log sealer: not caught up with the log within ${timeoutMs} ms`);
      await pause(10, this.stopSignal.signal);
    }
    return this.sealIfNew();
  }

  /** Stops following; with `finalSeal` (default) seals what is new first, so the anchor is current. */
  async stop(options: { finalSeal?: boolean } = {}): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if ((options.finalSeal ?? true) && this.state === 'live') {
      await this.sealNow(5_000).catch((error: unknown) => this.options.logger.warn({ err: error }, 'log sealer: the final seal failed'));
    }
    this.stopSignal.abort();
    await this.loop;
    await this.sealing.catch(() => {});
    if (this.state !== 'failed') this.state = 'stopped';
    this.unregister?.();
  }

  private sealIfNew(): Promise<RecordedEvent | null> {
    // One seal at a time per sealer; concurrent callers wait for the running one, then try.
    const next = this.sealing.catch(() => null).then(() => (this.unsealed > 0 && !this.stopSignal.signal.aborted ? this.seal() : null));
    this.sealing = next;
    return next;
  }

  private async seal(): Promise<RecordedEvent | null> {
    const snapshot = this.running;
    const unsealedAtSnapshot = this.unsealed;
    const { tenant, key, clock } = this.options;
    try {
      const handled = await handleCommand(
        { store: this.options.store, service: 'token-issuer', clock },
        {
          streamName: streams.log(tenant),
          decider: logSealDecider,
          schema: LogEvent,
          command: async (state) => {
            const previousSeal = state.last ? { upToPosition: state.last.upToPosition, runningHash: state.last.runningHash } : null;
            const statement = {
              tenant,
              upToPosition: snapshot.position,
              runningHash: snapshot.runningHash,
              eventCount: snapshot.eventCount,
              previousSeal,
              sealedAt: clock().toISOString(),
            };
            const { tenant: _tenant, ...fields } = statement;
            const seal: LogCheckpointSealed = { ...fields, keyId: key.keyId, publicKey: key.publicKey, signature: signSeal(key, statement) };
            return { type: 'seal_log' as const, seal };
          },
          ctx: { tenant, correlationId: `log-seal-${snapshot.position}`, causationId: null, actor: { kind: 'system', id: LOG_SEALER } },
          maxAttempts: 3,
        },
      );
      if (snapshot.position >= this.lastNonSealPosition) this.unsealed = Math.max(0, this.unsealed - unsealedAtSnapshot);
      const appended = handled.appended[0];
      if (appended) this.anchor(appended);
      return appended ?? null;
    } catch (error) {
      this.options.logger.warn({ err: error, upToPosition: snapshot.position }, 'log sealer: sealing failed; the next round tries again');
      throw error;
    }
  }

  /** Writes the anchor file for a seal of this tenant signed with this key, if newer than the one written. */
  private anchor(event: RecordedEvent): void {
    const file = this.options.anchorFile;
    if (!file || event.position <= this.anchoredSeal) return;
    const seal = LogCheckpointSealedV1.shape.data.parse(event.data);
    if (seal.publicKey !== this.options.key.publicKey || !sealSignatureValid(this.options.tenant, seal)) return;
    try {
      writeAnchorFile(file, {
        kind: 'idp-log-anchor',
        version: 1,
        tenant: this.options.tenant,
        sealPosition: event.position,
        sealEventHash: event.hash,
        upToPosition: seal.upToPosition,
        runningHash: seal.runningHash,
        eventCount: seal.eventCount,
        previousSeal: seal.previousSeal,
        sealedAt: seal.sealedAt,
        keyId: seal.keyId,
        publicKey: seal.publicKey,
        signature: seal.signature,
        writtenAt: this.options.clock().toISOString(),
      });
      this.anchoredSeal = event.position;
    } catch (error) {
      this.options.logger.error({ err: error, file }, 'log sealer: cannot write the anchor file');
    }
  }

  /** Where to resume: after the last seal of this stream that this key signed, or the log's start. */
  private async resumePoint(): Promise<RunningHashState> {
    const { events } = await this.options.store.readStream(streams.log(this.options.tenant));
    for (const event of [...events].reverse()) {
      const parsed = LogCheckpointSealedV1.safeParse({ type: event.type, schemaVersion: event.schemaVersion, data: event.data });
      if (!parsed.success) continue;
      const seal = parsed.data.data;
      if (seal.publicKey !== this.options.key.publicKey || !sealSignatureValid(this.options.tenant, seal)) continue;
      this.anchor(event);
      return { position: seal.upToPosition, runningHash: seal.runningHash, eventCount: seal.eventCount };
    }
    return RUNNING_HASH_START;
  }

  private handle(event: RecordedEvent): void {
    this.running = foldEvent(this.running, event);
    if (event.type !== SEAL_TYPE) {
      this.unsealed++;
      this.lastNonSealPosition = event.position;
      if (this.unsealed >= this.options.everyEvents) void this.sealIfNew().catch(() => {});
      return;
    }
    if (event.streamName !== streams.log(this.options.tenant)) return;
    // A seal by another replica (or by this one): it covers what it states; the anchor follows it.
    const upTo = (event.data as { upToPosition?: unknown } | null)?.upToPosition;
    if (typeof upTo === 'number' && upTo >= this.lastNonSealPosition) this.unsealed = 0;
    this.anchor(event);
  }

  private async run(): Promise<void> {
    const stopped = this.stopSignal.signal;
    let failures = 0;
    while (!stopped.aborted) {
      try {
        this.state = 'catching_up';
        const resume = await this.resumePoint();
        this.running = resume;
        this.unsealed = 0;
        await this.follow(resume.position, stopped);
        failures = 0;
      } catch (error) {
        if (stopped.aborted) break;
        const poison = asPoison(error);
        if (poison) {
          this.state = 'failed';
          this.lastError = poison.message;
          this.poison = poison.poison;
          followerFailures.inc({ follower: this.name, kind: 'poison' });
          this.options.logger.error({ follower: this.name, ...poison.poison }, 'log sealer stopped at a record it cannot read');
          this.ready();
          return;
        }
        failures++;
        followerFailures.inc({ follower: this.name, kind: 'target' });
        this.state = 'retrying';
        this.lastError = error instanceof Error ? error.message : String(error);
        this.options.logger.warn({ follower: this.name, err: error }, 'log sealer failed; resuming from the last seal');
        await pause(backoffMs(failures), stopped);
      }
    }
    this.ready();
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
    const subscription: Subscription = this.options.store.subscribeToAll((event) => this.handle(event), {
      after,
      onCaughtUp: () => {
        this.state = 'live';
        this.lastError = undefined;
        this.ready();
      },
      onError: failed,
    });
    try {
      await ended;
    } finally {
      stopped.removeEventListener('abort', onAbort);
      await subscription.stop();
    }
  }
}
