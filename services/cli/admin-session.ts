import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { createLogger } from '../../infra/log/logger.js';
import { NatsBus } from '../../infra/bus/nats.js';
import { credentialsFromEnv, natsConnectionOptions } from '../../infra/bus/nats-connection-options.js';
import type { Bus } from '../../infra/bus/port.js';
import type { DataKeyStore } from '../../infra/crypto/data-keys/port.js';
import { SqliteDataKeyStore } from '../../infra/crypto/data-keys/sqlite.js';
import { loadKekFile } from '../../infra/crypto/kek.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { v7 as uuidv7 } from 'uuid';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import type { TenantId } from '../../contracts/tenant.js';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { loadEmbeddedConfig } from '../embedded/config.js';
import { startEmbeddedServices } from '../embedded/embedded-services.js';
import type { CliEnv } from './cli-env.js';
import type { AdminSession } from './context.js';
import { CliError, EXIT } from './exit-codes.js';

export function adminRequestContext(tenant: TenantId, actorId: string): RequestContext {
  return { tenant, correlationId: `idp-cli-${uuidv7()}`, causationId: null, actor: { kind: 'admin', id: actorId } };
}

/**
 * Embedded mode: the owning services, started in this process with role `admin` on the given
 * log and data keys (in-memory projections, rebuilt from the log first). What they append, a
 * running server on the same SQLite file picks up by following the log.
 */
export async function embeddedAdminSession(options: {
  env: NodeJS.ProcessEnv;
  tenant: TenantId;
  actorId: string;
  eventStore: EventStore;
  dataKeys: DataKeyStore;
  kek: Buffer;
  /** Closed with the session (what this function's caller opened for it). */
  owned?: Array<{ close(): Promise<void> | void }>;
}): Promise<AdminSession> {
  const config = loadEmbeddedConfig({ ...options.env, IDP_DEMO: 'off', IDP_TENANT: options.tenant });
  const logger = createLogger({ level: 'silent' });
  const projectionStore = new InMemoryProjectionStore();
  const services = await startEmbeddedServices({
    config,
    kek: options.kek,
    eventStore: options.eventStore,
    dataKeys: options.dataKeys,
    projectionStore,
    logger,
    role: 'admin',
  });
  const bus: Bus = services.connect();
  return {
    mode: 'embedded',
    bus,
    requestContext: () => adminRequestContext(options.tenant, options.actorId),
    async close() {
      await services.close();
      await projectionStore.close();
      for (const closeable of options.owned ?? []) await closeable.close();
    },
  };
}

/** Opens the admin session the environment describes (see cli-env.ts). */
export async function openAdminSessionFromEnv(env: CliEnv, rawEnv: NodeJS.ProcessEnv): Promise<AdminSession> {
  if (env.BUS_URL.kind === 'nats') {
    // stdout is the command's output (`--json` is parsed by scripts): Nest's NATS client must not
    // print its connection status there. Its warnings and errors go to stderr.
    Logger.overrideLogger(stderrOnlyNestLogger);
    const bus = await NatsBus.connect(env.BUS_URL.url, {
      name: 'idp-cli',
      connection: natsConnectionOptions(env.BUS_URL.url, credentialsFromEnv('admin', env)),
    }).catch((error: unknown) => {
      throw new CliError(EXIT.unavailable, `cannot reach the bus at ${env.BUS_URL.kind === 'nats' ? redact(env.BUS_URL.url) : ''}: ${String(error)}`);
    });
    return {
      mode: 'distributed',
      bus,
      requestContext: () => adminRequestContext(env.IDP_TENANT, env.IDP_ADMIN_ACTOR),
      close: () => bus.close(),
    };
  }
  if (env.EVENT_STORE_URL.kind !== 'sqlite') {
    throw new CliError(
      EXIT.usage,
      env.EVENT_STORE_URL.kind === 'memory'
        ? 'EVENT_STORE_URL=memory: lives only inside the server process; point idp at the sqlite: file, or at the bus (BUS_URL=nats://…)'
        : 'administrative commands on a distributed log go over the bus: set BUS_URL=nats://… and IDP_NATS_SEED to the admin seed',
    );
  }
  let kek: Buffer;
  try {
    kek = env.IDP_KEK ?? loadKekFile(join(env.IDP_DATA_DIR, 'kek'));
  } catch (error) {
    throw new CliError(EXIT.usage, (error as Error).message);
  }
  const eventStore = SqliteEventStore.open(env.EVENT_STORE_URL.path, { synchronous: env.EVENT_STORE_URL.synchronous });
  const dataKeys = SqliteDataKeyStore.open(join(env.IDP_DATA_DIR, 'data-keys.db'), kek);
  return embeddedAdminSession({
    env: rawEnv,
    tenant: env.IDP_TENANT,
    actorId: env.IDP_ADMIN_ACTOR,
    eventStore,
    dataKeys,
    kek: kek,
    owned: [dataKeys, eventStore],
  });
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//…@');
}

const toStderr = (level: string) => (message: unknown, ...context: unknown[]) =>
  void process.stderr.write(`idp: ${level}: ${String(message)}${context.length > 0 ? ` (${context.map(String).join(', ')})` : ''}\n`);

/** Nest's logger for the `idp` process: warnings and errors on stderr, nothing else. */
const stderrOnlyNestLogger = {
  log: () => {},
  debug: () => {},
  verbose: () => {},
  warn: toStderr('warn'),
  error: toStderr('error'),
  fatal: toStderr('fatal'),
};
