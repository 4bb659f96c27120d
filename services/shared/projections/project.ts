import type { z } from 'zod';
import { EventMetadata } from '../../../contracts/events/metadata.js';
import type { RecordedEvent } from '../../../infra/event-store/port.js';
import type { ProjectionWrite } from '../../../infra/projections/port.js';

export type Projection = (event: RecordedEvent) => ProjectionWrite[];

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
  return (recorded) => {
    if (!known.has(recorded.type)) return [];
    const event = schema.parse({ type: recorded.type, schemaVersion: recorded.schemaVersion, data: recorded.data });
    return writes(event, EventMetadata.parse(recorded.metadata), recorded);
  };
}

export function combine(...projections: Projection[]): Projection {
  return (event) => projections.flatMap((p) => p(event));
}
