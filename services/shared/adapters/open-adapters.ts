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
import { InMemoryProjectionStore } from '../../../infra/projections/memory.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { RedisProjectionStore } from '../../../infra/projections/redis.js';

/** The one place that turns a parsed adapter URL into an adapter (DESIGN §5). */
export async function openEventStore(url: EventStoreUrl, options: { logger?: Logger } = {}): Promise<EventStore> {
  switch (url.kind) {
    case 'memory':
      return new InMemoryEventStore();
    case 'sqlite':
      return SqliteEventStore.open(url.path, {
        synchronous: url.synchronous,
        onTightened: options.logger && logTightened(options.logger),
      });
    case 'jetstream':
      return JetStreamEventStore.connect(url.url, { replicas: url.replicas, logger: options.logger });
    case 'kurrentdb':
      return KurrentDbEventStore.connect(url.url);
  }
}

export async function openProjectionStore(url: ProjectionsUrl): Promise<ProjectionStore> {
  switch (url.kind) {
    case 'memory':
      return new InMemoryProjectionStore();
    case 'redis':
      return RedisProjectionStore.connect(url.url);
  }
}

export async function openDataKeyStore(
  url: DataKeysUrl,
  kek: Buffer,
  options: { logger?: Logger } = {},
): Promise<DataKeyStore & { ping?(): Promise<void> }> {
  switch (url.kind) {
    case 'memory':
      return new InMemoryDataKeyStore(kek);
    case 'sqlite':
      return SqliteDataKeyStore.open(url.path, kek, { onTightened: options.logger && logTightened(options.logger) });
    case 'nats-kv':
      return NatsKvDataKeyStore.connect(url.url, kek, { replicas: url.replicas });
  }
}
