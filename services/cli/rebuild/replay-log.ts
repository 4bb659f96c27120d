import type { EventStore } from '../../../infra/event-store/port.js';
import { InMemoryProjectionStore } from '../../../infra/projections/memory.js';
import { inNamespace, ProjectionReplay, type ProjectionNamespace } from '../../embedded/projection-catalogue.js';
import { MEMORY_GC_GRACE_MS } from '../../shared/adapters/open-adapters.js';
import type { Progress } from '../progress.js';
import { readLog } from '../read-log.js';

export interface ReplayTarget {
  namespace: ProjectionNamespace;
  /** Replay up to this `$all` position (the live checkpoint to compare with); default the end of the log. */
  upTo?: number;
}

export interface RebuiltProjection {
  projection: string;
  /** The position of the log the rebuilt state stands for. */
  position: number;
  /** Events of the log up to that position that write this projection (the others change nothing). */
  events: number;
  /** Live entries at `now`. */
  entries: number;
  digest: string;
}

/** Events per page read from the log: big pages, few round trips (a page is all that is in memory). */
const PAGE_SIZE = 5_000;

/**
 * Replays `$all` once into a fresh in-memory store (the embedded mode's, collecting what expires,
 * so that memory follows the live state and not the length of the log), and takes each target's
 * digest when the replay reaches its position: one pass for every projection, whatever their
 * positions. A store that can read by type and knows its head (SQLite) hands over only the
 * events the projections read; the positions of the others are skipped, not decoded.
 */
export async function replayLog(
  store: EventStore,
  targets: readonly ReplayTarget[],
  options: { now: number; tenant: string; progress: Progress; signal?: AbortSignal },
): Promise<RebuiltProjection[]> {
  const projections = new InMemoryProjectionStore({ gcGraceMs: MEMORY_GC_GRACE_MS });
  const replay = new ProjectionReplay(projections, { services: targets.map((t) => t.namespace.service), tenant: options.tenant });
  const pending = [...targets].sort((a, b) => (a.upTo ?? Infinity) - (b.upTo ?? Infinity));
  const last = pending[pending.length - 1]?.upTo;
  const head = await store.headPosition?.();
  const byType = head !== undefined && store.readAllOfTypes !== undefined;
  const results = new Map<string, RebuiltProjection>();
  const counts = new Map<string, number>(targets.map((t) => [t.namespace.service, 0]));
  let position = 0;
  const finish = async (target: ReplayTarget) => {
    const include = (key: string) => inNamespace(target.namespace, key);
    const { digest, entries } = await projections.digestOf(options.now, include);
    // Read by type, the last event read is not the end of the log: the head is (as far as the target asks).
    const reached = byType ? Math.min(target.upTo ?? head!, head!) : position;
    const service = target.namespace.service;
    results.set(service, { projection: service, position: reached, events: counts.get(service)!, entries, digest });
  };
  let read = 0;
  for await (const event of readLog(store, { upTo: last, pageSize: PAGE_SIZE, ...(byType ? { types: [...replay.types] } : {}) })) {
    while (pending[0]?.upTo !== undefined && event.position > pending[0].upTo) await finish(pending.shift()!);
    await replay.apply(event);
    for (const target of pending) if (target.namespace.types.has(event.type)) counts.set(target.namespace.service, counts.get(target.namespace.service)! + 1);
    position = event.position;
    if ((++read & 0x3ff) === 0) {
      options.progress.update(position, last ?? head);
      if (options.signal?.aborted) throw new Error('interrupted');
    }
  }
  for (const target of pending) await finish(target);
  options.progress.update(last ?? head ?? position, last ?? head);
  return targets.map((t) => results.get(t.namespace.service)!);
}
