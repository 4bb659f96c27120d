import type { z } from 'zod';
import { EventMetadata, type RequestContext, type ServiceName } from '../../../contracts/events/metadata.js';
import { OAuthError } from '../../../contracts/oauth-error.js';
import { streamOwner } from '../../../contracts/streams.js';
import { TenantId } from '../../../contracts/tenant.js';
import {
  EventStoreUnavailableError,
  WrongExpectedVersionError,
  type AppendResult,
  type EventStore,
  type NewEvent,
  type ReadStreamResult,
  type RecordedEvent,
} from '../../../infra/event-store/port.js';
import type { ProjectionStore, ProjectionWrite } from '../../../infra/projections/port.js';
import { appendConflicts, eventsAppended } from '../../../infra/metrics/metrics.js';
import { newUuidV7 } from '../../../infra/crypto/secrets.js';
import type { Decider, Decision } from '../domain/decider.js';
import { eventHashV2, genesisHash } from './event-hash.js';

interface DomainEventShape {
  type: string;
  schemaVersion: number;
  data: unknown;
}

export interface CommandHandlerDeps {
  store: EventStore;
  service: ServiceName;
  /**
   * Write-through: the writer applies the projections of its own events at once (DESIGN §6),
   * under the projection's checkpoint (`checkpoint`, the projector's name) without moving it.
   */
  projections?: { store: ProjectionStore; project: (event: RecordedEvent) => ProjectionWrite[]; checkpoint: string };
  clock?: () => Date;
  /** Told when a write-through fails after the commit (the projector will catch up). */
  onWriteThroughFailure?: (error: unknown, event: RecordedEvent) => void;
}

export interface HandledCommand<S, E> {
  decision: Decision<E>;
  /** State before the decision (after folding the stream). */
  state: S;
  appended: RecordedEvent[];
}

const MAX_ATTEMPTS = 5;

/**
 * An append to a stream whose aggregate another service owns (contracts/streams.ts
 * `STREAM_OWNERS`), or that no aggregate writes: a bug in the caller, refused before anything
 * is read or appended, so that every event's `metadata.service` is its stream's owner.
 */
export class NotStreamOwnerError extends Error {
  override readonly name = 'NotStreamOwnerError';
  constructor(
    readonly service: ServiceName,
    readonly streamName: string,
    readonly owner: ServiceName | null,
  ) {
    super(
      owner === null
        ? `${service} may not append to ${streamName}: no aggregate writes such a stream`
        : `${service} may not append to ${streamName}: its aggregate belongs to ${owner}`,
    );
  }
}

/**
 * Load one stream, fold it, decide, append with the expected version; on a lost race, retry on
 * fresh state. Each event gets its metadata and the hash chain here, in one place.
 */
export async function handleCommand<S, C, E extends DomainEventShape>(
  deps: CommandHandlerDeps,
  args: {
    streamName: string;
    decider: Decider<S, C, E>;
    schema: z.ZodType<E>;
    /**
     * The command, or a function that builds it from the loaded state: for work that must be
     * done before the append but needs the state (signing tokens, so that committing the
     * redemption is the very last step). Called again on every retry.
     */
    command: C | ((state: S) => Promise<C>);
    ctx: RequestContext;
    /** Decisions tried before lasting contention becomes 503; default 5. */
    maxAttempts?: number;
    /**
     * The caller has just made this stream's id (a fresh random grant id): the first attempt
     * skips the read and decides on the initial state, appending with `no_stream` (issue 12: one
     * read less per grant). Were the stream there after all, that append fails and the retry
     * reads it, so the decision is always made on the stream's real state.
     */
    expectNewStream?: boolean;
  },
): Promise<HandledCommand<S, E>> {
  // DESIGN §3: each service appends to its own aggregates only; the event says who wrote it.
  const owner = streamOwner(args.streamName);
  if (owner !== deps.service) throw new NotStreamOwnerError(deps.service, args.streamName, owner);
  const maxAttempts = args.maxAttempts ?? MAX_ATTEMPTS;
  const clock = deps.clock ?? (() => new Date());
  for (let attempt = 1; ; attempt++) {
    const { events: stored, version } =
      attempt === 1 && args.expectNewStream ? { events: [] as RecordedEvent[], version: null } : await readStream(deps.store, args.streamName);
    const state = stored.reduce(
      (s, recorded) => args.decider.evolve(s, parseRecorded(args.schema, recorded)),
      args.decider.initialState(),
    );
    const command = typeof args.command === 'function' ? await (args.command as (state: S) => Promise<C>)(state) : args.command;
    const decision = args.decider.decide(command, state);
    if (decision.events.length === 0) return { decision, state, appended: [] };
    // An event the contract rejects must never reach the log: every later load would fail on it.
    for (const event of decision.events) args.schema.parse(event);

    const after = stored.at(-1);
    const newEvents = stampEvents(deps.service, args.ctx, decision.events, { streamName: args.streamName, after }, clock());

    let result: AppendResult;
    try {
      result = await deps.store.append(args.streamName, newEvents, version ?? 'no_stream');
    } catch (error) {
      if (error instanceof EventStoreUnavailableError) {
        throw new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable', {
          mayRedirect: false,
          detail: error.message,
        });
      }
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      appendConflicts.inc();
      if (attempt < maxAttempts) {
        // Many writers of one stream: spread their retries a little so they do not collide again.
        if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 10)));
        continue;
      }
      // Contention that outlasts the retries is load, not a fault: the client may try again.
      throw new OAuthError('temporarily_unavailable', 'the request conflicted with others; retry', {
        mayRedirect: false,
        detail: error.message,
      });
    }
    for (const event of newEvents) eventsAppended.inc({ type: event.type });
    // The events are committed: a failing write-through must not turn that into an error. The
    // projector applies the same writes from the log moments later.
    if (deps.projections) {
      for (const recorded of result.events) {
        try {
          await deps.projections.store.apply(deps.projections.project(recorded), recorded.position, {
            name: deps.projections.checkpoint,
            advance: false,
          });
        } catch (error) {
          if (deps.onWriteThroughFailure) deps.onWriteThroughFailure(error, recorded);
          else process.emitWarning(`write-through of ${recorded.type} at ${recorded.position} failed: ${String(error)}`);
        }
      }
    }
    return { decision, state, appended: result.events };
  }
}

/**
 * Metadata and the hash chain for the events of one decision. Metadata is validated against
 * the contract like the data, and an event whose canonical form cannot be computed is refused:
 * either would otherwise sit in the log and fail every follower that reads it. Both come from
 * the caller's input (its context, its text), so they are the caller's `invalid_request`.
 */
function stampEvents(
  service: ServiceName,
  ctx: RequestContext,
  events: DomainEventShape[],
  place: { streamName: string; after: RecordedEvent | undefined },
  now: Date,
): NewEvent[] {
  const time = now.toISOString();
  // Hash version 2 (DESIGN §4): each event commits to its stream and index, and a stream's
  // first event is chained to the tenant's genesis. The store puts the events right after the
  // last one read (the append is conditional on that version), so their indexes are known. A
  // malformed tenant has no genesis: the metadata check below refuses it.
  let previousHash = place.after?.hash ?? (TenantId.safeParse(ctx.tenant).success ? genesisHash(ctx.tenant) : null);
  const firstIndex = (place.after?.streamIndex ?? -1) + 1;
  return events.map((event, i) => {
    const parsed = EventMetadata.safeParse({
      eventId: newUuidV7(),
      time,
      tenant: ctx.tenant,
      correlationId: ctx.correlationId,
      causationId: ctx.causationId,
      actor: ctx.actor,
      service,
      ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
      previousHash,
      hashVersion: 2,
    });
    if (!parsed.success) {
      throw new OAuthError('invalid_request', 'the request context is malformed', {
        mayRedirect: false,
        detail: parsed.error.message,
      });
    }
    const body = { type: event.type, schemaVersion: event.schemaVersion, data: event.data, metadata: parsed.data };
    let hash: string;
    try {
      hash = eventHashV2({ ...body, streamName: place.streamName, streamIndex: firstIndex + i });
    } catch (error) {
      throw new OAuthError('invalid_request', 'the request contains text that cannot be stored (not well-formed Unicode)', {
        mayRedirect: false,
        detail: `${event.type}: ${(error as Error).message}`,
      });
    }
    previousHash = hash;
    return { ...body, hash };
  });
}

/** Reads back one stream and folds it, for queries that need the stream's own truth. */
export async function loadState<S, C, E extends DomainEventShape>(
  store: EventStore,
  streamName: string,
  decider: Decider<S, C, E>,
  schema: z.ZodType<E>,
): Promise<S> {
  const { events } = await readStream(store, streamName);
  return events.reduce((s, recorded) => decider.evolve(s, parseRecorded(schema, recorded)), decider.initialState());
}

/**
 * A stream read that fails is a dependency that is down (the store unreachable, a timeout): the
 * client may try again, so it is `temporarily_unavailable` (503), with the cause for the logs.
 */
async function readStream(store: EventStore, streamName: string): Promise<ReadStreamResult> {
  try {
    return await store.readStream(streamName);
  } catch (error) {
    throw new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable', {
      mayRedirect: false,
      detail: `reading ${streamName}: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

export function parseRecorded<E>(schema: z.ZodType<E>, recorded: RecordedEvent): E {
  return schema.parse({ type: recorded.type, schemaVersion: recorded.schemaVersion, data: recorded.data });
}
