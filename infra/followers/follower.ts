import { UndecodableEventError, type EventStore, type RecordedEvent } from '../event-store/port.js';

/**
 * A follower reads the log (`$all`) and keeps something up to date from it: a projector keeps
 * projections, the relay keeps the live stream IDP_EVENTS. Every follower reports what it is
 * doing in the same shape, so readiness (/readyz) and /metrics can judge them all alike.
 *
 * - `catching_up`: applying events that were in the log when it (re)started;
 * - `live`: caught up, applying events as they come;
 * - `retrying`: its target (Redis, NATS) or the log failed; it waits (backoff) and resumes
 *   from its checkpoint;
 * - `failed`: it met an event it cannot apply (a poison event). It stopped there, loudly, and
 *   does not spin; only a fix of the code or the log gets it further;
 * - `standby`: it does not follow now, by design (a relay that is not the leader);
 * - `stopped`: stopped on purpose (shutdown).
 */
export type FollowerState = 'starting' | 'catching_up' | 'live' | 'retrying' | 'failed' | 'standby' | 'stopped';

export interface FollowerStatus {
  name: string;
  state: FollowerState;
  /** `$all` position of the last event it applied (or its checkpoint before the first). */
  position: number;
  /** The last failure, for operators (never a secret: error messages only). */
  lastError?: string;
  /** Where a `failed` follower stopped. */
  poison?: { position: number; streamName: string; streamIndex: number; type: string; eventId?: string };
}

/** A status without the optional fields that are not set (so it serialises cleanly). */
export function followerStatus(fields: {
  name: string;
  state: FollowerState;
  position: number;
  lastError: string | undefined;
  poison: FollowerStatus['poison'];
}): FollowerStatus {
  const { lastError, poison, ...always } = fields;
  return { ...always, ...(lastError !== undefined ? { lastError } : {}), ...(poison !== undefined ? { poison } : {}) };
}

export interface Follower {
  readonly name: string;
  /** The store it follows, to measure how far behind it is. */
  readonly eventStore: EventStore;
  status(): FollowerStatus;
}

export type PoisonInfo = NonNullable<FollowerStatus['poison']>;

/**
 * An event a follower cannot apply: its own code refuses it, the store cannot decode it, or the
 * target refuses its writes as invalid. Retrying would never help.
 */
export class PoisonEventError extends Error {
  override readonly name = 'PoisonEventError';
  constructor(
    readonly poison: PoisonInfo,
    override readonly cause: unknown,
  ) {
    super(
      `cannot apply ${poison.type} at position ${poison.position} (${poison.streamName}#${poison.streamIndex}): ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
    );
  }

  static at(event: RecordedEvent, cause: unknown): PoisonEventError {
    return new PoisonEventError(poisonOf(event), cause);
  }
}

/** The poison behind a follower's failure, if it is one: a PoisonEventError or a record the store cannot decode. */
export function asPoison(error: unknown): PoisonEventError | undefined {
  if (error instanceof PoisonEventError) return error;
  if (error instanceof UndecodableEventError) {
    return new PoisonEventError(
      { position: error.position, streamName: error.streamName ?? '(unknown)', streamIndex: -1, type: '(undecodable record)' },
      error,
    );
  }
  return undefined;
}

export function poisonOf(event: RecordedEvent): PoisonInfo {
  const eventId = (event.metadata as { eventId?: unknown } | null | undefined)?.eventId;
  return {
    position: event.position,
    streamName: event.streamName,
    streamIndex: event.streamIndex,
    type: event.type,
    ...(typeof eventId === 'string' ? { eventId } : {}),
  };
}

/**
 * How far behind the log a follower is, in seconds: the age of the oldest event it has not
 * applied yet (0 when there is none). Measured against the log, not assumed from the follower's
 * own view: one read of `$all` after its position.
 */
export async function lagSeconds(follower: Follower, now = Date.now()): Promise<number> {
  const { position } = follower.status();
  const [next] = await follower.eventStore.readAll({ after: position, limit: 1 });
  if (!next) return 0;
  const time = Date.parse(String((next.metadata as { time?: unknown } | null | undefined)?.time));
  // An event without a readable time is itself a problem; count it as behind by a lot.
  return Number.isFinite(time) ? Math.max(0, (now - time) / 1000) : Number.POSITIVE_INFINITY;
}

/** Waits `ms` unless `signal` aborts first; never rejects. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Exponential backoff: `min` doubling per attempt (1-based) up to `max`. */
export function backoffMs(attempt: number, min = 100, max = 5_000): number {
  return Math.min(max, min * 2 ** Math.max(0, attempt - 1));
}
