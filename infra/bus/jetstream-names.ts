/**
 * The JetStream streams and KV buckets of a deployment, by name: the adapters' defaults, and what
 * the bus permissions (permissions.ts) grant access to.
 */
export const JETSTREAM_NAMES = {
  /** The event store's stream (infra/event-store/jetstream.ts) and its subject prefix. */
  log: 'IDP_LOG',
  logSubjectPrefix: 'idp.log',
  /** The live stream (infra/event-relay) and its subject prefix. */
  events: 'IDP_EVENTS',
  eventSubjectPrefix: 'idp.events',
  /** Per-user data keys (infra/crypto/data-keys/nats-kv.ts), authn's alone. */
  dataKeysBucket: 'idp_data_keys',
  /** The event relay's leader lease. */
  leasesBucket: 'idp_leases',
} as const;

/** The JetStream stream behind a KV bucket. */
export const kvStreamOf = (bucket: string) => `KV_${bucket}`;
