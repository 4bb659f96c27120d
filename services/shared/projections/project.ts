import type { z } from 'zod';
import { EventMetadata } from '../../../contracts/events/metadata.js';
import type { RecordedEvent } from '../../../infra/event-store/port.js';
import type { ProjectionWrite } from '../../../infra/projections/port.js';

/** A projection, and the event types it reads (any other event gives no writes): what a rebuild must read. */
export type Projection = ((event: RecordedEvent) => ProjectionWrite[]) & { readonly types: ReadonlySet<string> };

/**
 * Builds a projection over the events of one schema union: events of other types are ignored,
 * events of these types are parsed (a malformed one is a bug worth stopping for).
 */
export function projection<E extends { type: string }>(
  schema: z.ZodType<E>,
  types: ReadonlyArray<E['type']>,
  writes: (event: E, meta: EventMetadata, recorded: RecordedEvent) => ProjectionWrite[],
): Projection {
  const known = new Set<string>(types);
  const project = (recorded: RecordedEvent): ProjectionWrite[] => {
    if (!known.has(recorded.type)) return [];
    const event = schema.parse({ type: recorded.type, schemaVersion: recorded.schemaVersion, data: recorded.data });
    return writes(event, EventMetadata.parse(recorded.metadata), recorded);
  };
  return Object.assign(project, { types: known });
}

export function combine(...projections: Projection[]): Projection {
  const project = (event: RecordedEvent): ProjectionWrite[] => projections.flatMap((p) => p(event));
  return Object.assign(project, { types: new Set(projections.flatMap((p) => [...p.types])) });
}
