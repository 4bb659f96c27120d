import 'reflect-metadata';
import fs from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import { RegisterUser } from '../../../contracts/messages/authn.js';
import { InProcessBroker, InProcessBus } from '../../../infra/bus/inproc.js';
import { BusTransportServer } from '../../../infra/bus/nest-transport.js';
import { SqliteDataKeyStore } from '../../../infra/crypto/data-keys/sqlite.js';
import { deriveKey, loadOrCreateKekFile } from '../../../infra/crypto/kek.js';
import { call } from '../../../infra/bus/typed.js';
import { SqliteEventStore } from '../../../infra/event-store/sqlite.js';
import { InMemoryProjectionStore } from '../../../infra/projections/memory.js';
import { createLogger } from '../../../infra/log/logger.js';
import { PinoNestLogger } from '../../../infra/log/nest-logger.js';
import { AuthnModule } from '../../../services/authn/adapters/authn.module.js';
import { loadEmbeddedConfig, type EmbeddedConfig } from '../../../services/embedded/config.js';
import { startEmbeddedServer } from '../../../services/embedded/embedded-server.js';
import { announceReady } from './child-server.js';
import type { BenchUser } from './target.js';

/**
 * Our embedded server for the bench (a child process on the server core), with many users.
 * Before the server starts, the users of BENCH_USERS_FILE are registered into its SQLite log
 * through authn's own `register_user` bus message (the same module the server runs, on a
 * private in-process bus), so they are ordinary `user.registered` events; the server then
 * rebuilds its projections from the log as at every start. No service code is changed for it.
 */
const config = loadEmbeddedConfig(process.env);
const logger = createLogger({ level: config.logLevel });
const users = JSON.parse(fs.readFileSync(process.env.BENCH_USERS_FILE ?? '', 'utf8')) as BenchUser[];

async function registerUsers(config: EmbeddedConfig, users: BenchUser[]): Promise<void> {
  if (config.eventStore.kind !== 'sqlite') throw new Error('the bench seeds users into a SQLite log');
  const kek = config.kek ?? loadOrCreateKekFile(join(config.dataDir, 'kek'));
  const eventStore = SqliteEventStore.open(config.eventStore.path, { synchronous: config.eventStore.synchronous });
  const dataKeys = SqliteDataKeyStore.open(join(config.dataDir, 'data-keys.db'), kek);
  const projectionStore = new InMemoryProjectionStore();
  const broker = new InProcessBroker();
  const authn = await NestFactory.createMicroservice(
    AuthnModule.forRoot({
      eventStore,
      projectionStore,
      dataKeys,
      usernameKey: deriveKey(kek, 'username-digest'),
      loginSourceKey: deriveKey(kek, 'login-source'),
      sessionTtlSeconds: 3600,
      argon2: config.argon2,
      logger,
    }),
    { strategy: new BusTransportServer(new InProcessBus(broker), 'authn'), logger: new PinoNestLogger(logger) },
  );
  await authn.listen();
  const bus = new InProcessBus(broker);
  try {
    const ctx: RequestContext = {
      tenant: config.tenant,
      correlationId: `bench-seed-${Date.now()}`,
      causationId: null,
      actor: { kind: 'system', id: 'bench-seed' },
    };
    for (const user of users) {
      await call(bus, RegisterUser, { ctx, username: user.username, password: user.password, name: user.username }, { timeoutMs: 30_000 });
    }
  } finally {
    await authn.close();
    await bus.close();
    await dataKeys.close();
    await eventStore.close();
  }
}

await registerUsers(config, users);
const server = await startEmbeddedServer(config, logger);
announceReady({ issuer: config.issuer, users: users.length });

const stop = () => {
  void server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
