import { EventMetadata } from '../../../contracts/events/metadata.js';
import { publishedData } from '../../../contracts/events/published.js';
import type { RecordedEvent } from '../../../infra/event-store/port.js';
import { CliError, EXIT } from '../exit-codes.js';

/**
 * One event of the log as the audit commands read it: its place, its type, when and by whom, and
 * two views of its data. `data` is the event's own data, for matching and folding only (it holds
 * hashes of secrets: nothing of it is printed); `published` is the allow-listed projection
 * (contracts/events/published.ts), the only data that reaches the output.
 */
export interface LogEvent {
  position: number;
  streamName: string;
  type: string;
  schemaVersion: number;
  /** Epoch ms of the event's metadata time. */
  time: number;
  eventId: string;
  /** `<kind>:<id>`, as the live stream spells it. */
  actor: string;
  correlationId: string;
  causationId: string | null;
  data: Readonly<Record<string, unknown>>;
  readonly published: Readonly<Record<string, unknown>>;
}

export function toLogEvent(event: RecordedEvent): LogEvent {
  const parsed = EventMetadata.safeParse(event.metadata);
  if (!parsed.success) throw new CliError(EXIT.failed, `the event at position ${event.position} has no valid metadata`);
  const metadata = parsed.data;
  const data = isRecord(event.data) ? event.data : {};
  // Projected when first asked for: as-of never prints data, and a timeline only for its rows.
  let published: Record<string, unknown> | undefined;
  return {
    position: event.position,
    streamName: event.streamName,
    type: event.type,
    schemaVersion: event.schemaVersion,
    time: Date.parse(metadata.time),
    eventId: metadata.eventId,
    actor: `${metadata.actor.kind}:${metadata.actor.id}`,
    correlationId: metadata.correlationId,
    causationId: metadata.causationId,
    data,
    get published() {
      return (published ??= publishedData(event).data ?? {});
    },
  };
}

/** A field of an event's data as text, or undefined when it is absent or not text. */
export function textField(data: Readonly<Record<string, unknown>>, field: string): string | undefined {
  const value = data[field];
  return typeof value === 'string' ? value : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
