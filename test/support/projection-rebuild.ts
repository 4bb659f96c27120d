import type { RecordedEvent } from '../../infra/event-store/port.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import type { RedisBackend } from '../../infra/projections/redis-acl.js';
import { PROJECTIONS, ProjectionReplay } from '../../services/embedded/projection-catalogue.js';

/** The production list of projections (what `idp rebuild` replays), for tests that compare live state with a rebuild. */
export { PROJECTIONS };

/**
 * Builds from `log` into a fresh in-memory store, as the projectors do, the projections of one
 * service's namespace (or, without `service`, all of them in one store, as the embedded mode has them).
 */
export async function rebuildProjections(log: RecordedEvent[], service?: RedisBackend): Promise<InMemoryProjectionStore> {
  const store = new InMemoryProjectionStore();
  const replay = new ProjectionReplay(store, service === undefined ? {} : { services: [service] });
  for (const event of log) await replay.apply(event);
  return store;
}
