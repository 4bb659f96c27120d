import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** SHA-256 (hex) over the RFC 8785 canonical JSON of what an event says (DESIGN §4, tamper evidence). */
export function eventHash(event: { type: string; schemaVersion: number; data: unknown; metadata: unknown }): string {
  const canonical = canonicalize({
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
  });
  if (canonical === undefined) throw new Error('event is not serialisable');
  return createHash('sha256').update(canonical).digest('hex');
}
