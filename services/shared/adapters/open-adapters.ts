import { readFileSync } from 'node:fs';
import type { DataKeysUrl, EventStoreUrl, ProjectionsUrl } from '../../../infra/config/adapter-urls.js';
import { InMemoryDataKeyStore } from '../../../infra/crypto/data-keys/memory.js';
import { NatsKvDataKeyStore } from '../../../infra/crypto/data-keys/nats-kv.js';
import type { DataKeyStore } from '../../../infra/crypto/data-keys/port.js';
import { SqliteDataKeyStore } from '../../../infra/crypto/data-keys/sqlite.js';
import { logTightened } from '../../../infra/files/private-files.js';
import { JetStreamEventStore } from '../../../infra/event-store/jetstream.js';
import { KurrentDbEventStore } from '../../../infra/event-store/kurrentdb.js';
import { InMemoryEventStore } from '../../../infra/event-store/memory.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import { SqliteEventStore } from '../../../infra/event-store/sqlite.js';
import type { Logger } from '../../../infra/log/logger.js';
import type { NatsConnectionOptions } from '../../../infra/bus/nats-connection-options.js';
import { InMemoryProjectionStore } from '../../../infra/projections/memory.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { RedisProjectionStore } from '../../../infra/projections/redis.js';
import { redisKeyPrefix, type RedisBackend } from '../../../infra/projections/redis-acl.js';

/** The one place that turns a parsed adapter URL into an adapter (DESIGN §5). */
export async function openEventStore(url: EventStoreUrl, options: { logger?: Logger; nats?: NatsConnectionOptions } = {}): Promise<EventStore> {
  switch (url.kind) {
    case 'memory':
      return new InMemoryEventStore();
    case 'sqlite':
      return SqliteEventStore.open(url.path, {
        synchronous: url.synchronous,
        onTightened: options.logger && logTightened(options.logger),
      });
    case 'jetstream':
      return JetStreamEventStore.connect(url.url, {
        replicas: url.replicas,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.nats ? { connection: options.nats } : {}),
      });
    case 'kurrentdb':
      return KurrentDbEventStore.connect(url.url);
  }
}

/** Where and as whom a store connects to Redis (ignored for memory:). */
export interface ProjectionStoreAccess {
  /** Default 'idp:proj:' (the embedded mode's one store); each backend has its own (redisKeyPrefix). */
  keyPrefix?: string;
  username?: string;
  password?: string;
  /** PEM of the CA of Redis's certificate (rediss:// only). */
  ca?: string;
}

/** How long after expiry (by the log's clock) the in-memory projections forget an entry; Redis's default is the same. */
export const MEMORY_GC_GRACE_MS = 60_000;

export async function openProjectionStore(url: ProjectionsUrl, access: ProjectionStoreAccess = {}): Promise<ProjectionStore> {
  switch (url.kind) {
    case 'memory':
      // Forgets expired entries a minute after the log's clock passed them: memory follows the live state.
      return new InMemoryProjectionStore({ gcGraceMs: MEMORY_GC_GRACE_MS });
    case 'redis':
      return RedisProjectionStore.connect(url.url, access);
  }
}

/**
 * A backend's projection store: its own namespace `idp:proj:<service>:` (by default), as its
 * own Redis ACL user (IDP_REDIS_USERNAME, default the service's name, with IDP_REDIS_PASSWORD).
 */
export function backendProjectionAccess(
  service: RedisBackend,
  env: { IDP_REDIS_USERNAME?: string | undefined; IDP_REDIS_PASSWORD?: string | undefined; IDP_REDIS_CA?: string | undefined },
  namespaceOf: RedisBackend = service,
): ProjectionStoreAccess {
  return {
    keyPrefix: redisKeyPrefix(namespaceOf),
    username: env.IDP_REDIS_USERNAME ?? service,
    ...(env.IDP_REDIS_PASSWORD === undefined ? {} : { password: env.IDP_REDIS_PASSWORD }),
    ...(env.IDP_REDIS_CA === undefined ? {} : { ca: readFileSync(env.IDP_REDIS_CA, 'utf8') }),
  };
}

export async function openDataKeyStore(
  url: DataKeysUrl,
  kek: Buffer,
  options: { logger?: Logger; nats?: NatsConnectionOptions } = {},
): Promise<DataKeyStore & { ping?(): Promise<void> }> {
  switch (url.kind) {
    case 'memory':
      return new InMemoryDataKeyStore(kek);
    case 'sqlite':
      return SqliteDataKeyStore.open(url.path, kek, { onTightened: options.logger && logTightened(options.logger) });
    case 'nats-kv':
      return NatsKvDataKeyStore.connect(url.url, kek, { replicas: url.replicas, ...(options.nats ? { connection: options.nats } : {}) });
  }
}
