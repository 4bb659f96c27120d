import { z } from 'zod';
import { TenantId } from '../tenant.js';

export const ServiceName = z.enum(['gateway', 'authn', 'client-registry', 'token-issuer']);
export type ServiceName = z.infer<typeof ServiceName>;

export const Actor = z.object({
  kind: z.enum(['user', 'client', 'admin', 'system']),
  id: z.string().min(1).max(256),
});
export type Actor = z.infer<typeof Actor>;

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** W3C Trace Context `traceparent` (version-traceid-parentid-flags, lower-case hex). */
export const Traceparent = z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'a W3C traceparent');
const CorrelationId = z.string().min(1).max(128);

/** Metadata carried by every event (DESIGN §4). */
export const EventMetadata = z.object({
  eventId: z.string().regex(UUID_V7, 'event id must be a UUIDv7'),
  time: z.string().datetime({ offset: false }),
  tenant: TenantId,
  correlationId: CorrelationId,
  causationId: CorrelationId.nullable(),
  actor: Actor,
  service: ServiceName,
  traceparent: Traceparent.optional(),
  /**
   * SHA-256 (hex) of the previous event of the same stream. For the first event: null under
   * hash version 1, the tenant's genesis value under version 2 (services/shared/app/event-hash.ts).
   */
  previousHash: z.string().regex(SHA256_HEX).nullable(),
  /**
   * How the event's hash was computed (DESIGN §4). Absent means version 1, so logs written before
   * version 2 still parse; version 2 also commits to the stream name and the event's index.
   */
  hashVersion: z.literal(2).optional(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

/**
 * What the command side hands over for one request; stamped onto every event it causes. Its
 * fields are the metadata's own schemas, so a context the bus accepts is one the log accepts:
 * a value that passed here and failed later would be an event every follower chokes on.
 */
export const RequestContext = EventMetadata.pick({
  tenant: true,
  correlationId: true,
  causationId: true,
  actor: true,
  traceparent: true,
});
export type RequestContext = z.infer<typeof RequestContext>;
