const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The UUID in an event's `metadata.eventId` (the UUIDv7 the command handler stamps on every
 * event), or undefined when there is none. Adapters make their idempotency keys from it, so that
 * a retried write is recognised by the server as the same write: the KurrentDB event id, the
 * JetStream `Nats-Msg-Id`.
 */
export function eventIdOf(metadata: unknown): string | undefined {
  const eventId = (metadata as { eventId?: unknown } | null | undefined)?.eventId;
  return typeof eventId === 'string' && UUID.test(eventId) ? eventId : undefined;
}
