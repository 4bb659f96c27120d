import { EventMetadata } from '../../contracts/events/metadata.js';
import { publishedData } from '../../contracts/events/published.js';
import { parseStreamName } from '../../contracts/streams.js';
import type { RecordedEvent } from '../event-store/port.js';
import { JETSTREAM_NAMES } from '../bus/jetstream-names.js';

export const DEFAULT_SUBJECT_PREFIX: string = JETSTREAM_NAMES.eventSubjectPrefix;

/**
 * An event of the log as a CloudEvent 1.0 in the JSON format (structured mode). Extension
 * attribute names are lower-case alphanumeric, as CloudEvents requires; absent values are left
 * out rather than null.
 */
export interface CloudEvent {
  specversion: '1.0';
  /** The event id (UUIDv7) of the metadata: stable, so consumers can deduplicate on it. */
  id: string;
  /** `urn:idp:<tenant>:<service>` */
  source: string;
  type: string;
  /** The event's stream name, e.g. `grant-default-<id>`. */
  subject: string;
  time: string;
  /**
   * The allow-listed projection of the event's data (contracts/events/published.ts): never a
   * hash of a secret, key material or a sealed blob. Absent, with `datacontenttype`, for an
   * event type or version without an allow-list (fail closed).
   */
  datacontenttype?: 'application/json';
  data?: Record<string, unknown>;
  /** Present (true) when something of the event's data was left out: its hash cannot be recomputed. */
  idpredacted?: true;
  /**
   * Position in `$all`, as a decimal string: a CloudEvents Integer is 32-bit, and positions
   * (e.g. the JetStream store's `sequence * 1024`) outgrow that.
   */
  idpposition: string;
  idpschemaversion: number;
  /**
   * 0-based index of the event in its stream (`subject`). With the hash version, what a consumer
   * needs to recompute `idphash` under version 2, which commits to the event's place (DESIGN §4).
   */
  idpstreamindex: number;
  idphash: string;
  /** How `idphash` was computed (services/shared/app/event-hash.ts): 1 or 2. */
  idphashversion: number;
  /** Absent on the first event of a stream under hash version 1; the tenant's genesis under 2. */
  idpprevioushash?: string;
  idpcorrelationid: string;
  idpcausationid?: string;
  /** `<kind>:<id>`, e.g. `user:8f0c…` */
  idpactor: string;
  /** W3C trace context, by the CloudEvents distributed-tracing extension. */
  traceparent?: string;
}

/** Dot-separated tokens free of what NATS gives meaning to in subjects ('*', '>', whitespace). */
const TOKENS = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * `<prefix>.<tenant>.<aggregate>.<type>`; the type keeps its dots, so
 * `idp.events.default.grant.authorization_code.issued` and consumers filter with `idp.events.default.grant.>`.
 */
export function subjectFor(event: Pick<RecordedEvent, 'streamName' | 'type'>, prefix = DEFAULT_SUBJECT_PREFIX): string {
  const stream = parseStreamName(event.streamName);
  if (!stream) throw new Error(`stream name ${JSON.stringify(event.streamName)} is not <aggregate>-<tenant>-<id>`);
  if (!TOKENS.test(event.type)) throw new Error(`event type ${JSON.stringify(event.type)} cannot be part of a subject`);
  return `${prefix}.${stream.tenant}.${stream.aggregate}.${event.type}`;
}

export function toCloudEvent(
  event: RecordedEvent,
  prefix = DEFAULT_SUBJECT_PREFIX,
): { subject: string; data: CloudEvent } {
  const metadata = EventMetadata.parse(event.metadata);
  const subject = subjectFor(event, prefix);
  const streamTenant = parseStreamName(event.streamName)?.tenant;
  // Subject and source must name the same tenant, or a consumer filtering by tenant is misled.
  if (streamTenant !== metadata.tenant) {
    throw new Error(`event ${metadata.eventId}: tenant ${metadata.tenant} in a stream of tenant ${streamTenant}`);
  }
  const published = publishedData(event);
  const cloudEvent: CloudEvent = {
    specversion: '1.0',
    id: metadata.eventId,
    source: `urn:idp:${metadata.tenant}:${metadata.service}`,
    type: event.type,
    subject: event.streamName,
    time: metadata.time,
    ...(published.data === undefined ? {} : { datacontenttype: 'application/json', data: published.data }),
    ...(published.redacted ? { idpredacted: true } : {}),
    idpposition: String(event.position),
    idpschemaversion: event.schemaVersion,
    idpstreamindex: event.streamIndex,
    idphash: event.hash,
    // Spelled out even for version 1 (absent in the metadata), so consumers need no default.
    idphashversion: metadata.hashVersion ?? 1,
    ...(metadata.previousHash === null ? {} : { idpprevioushash: metadata.previousHash }),
    idpcorrelationid: metadata.correlationId,
    ...(metadata.causationId === null ? {} : { idpcausationid: metadata.causationId }),
    idpactor: `${metadata.actor.kind}:${metadata.actor.id}`,
    ...(metadata.traceparent === undefined ? {} : { traceparent: metadata.traceparent }),
  };
  return { subject, data: cloudEvent };
}
