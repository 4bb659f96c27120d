import 'reflect-metadata';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext, INestMicroservice } from '@nestjs/common';
import type { Logger } from 'pino';
import { InProcessBroker, InProcessBus } from '../../infra/bus/inproc.js';
import type { Bus } from '../../infra/bus/port.js';
import { BusTransportServer } from '../../infra/bus/nest-transport.js';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import type { DataKeyStore } from '../../infra/crypto/data-keys/port.js';
import { SqliteDataKeyStore } from '../../infra/crypto/data-keys/sqlite.js';
import { deriveKey, loadOrCreateKekFile } from '../../infra/crypto/kek.js';
import { SealedTokens } from '../../infra/crypto/sealed-token.js';
import { logTightened } from '../../infra/files/private-files.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { PinoNestLogger } from '../../infra/log/nest-logger.js';
import { checkFollowers } from '../../infra/followers/registry.js';
import { AuthnModule } from '../authn/adapters/authn.module.js';
import { ClientRegistryModule } from '../client-registry/adapters/client-registry.module.js';
import { createGatewayHttpApp } from '../gateway/adapters/gateway-http-app.js';
import { HealthEndpoints } from '../shared/adapters/health-server.js';
import { openProjectionStore } from '../shared/adapters/open-adapters.js';
import { TokenIssuerModule } from '../token-issuer/adapters/token-issuer.module.js';
import type { EmbeddedConfig } from './config.js';
import { seedDemo, type DemoInfo } from './demo-seed.js';

export interface EmbeddedServer {
  url: string;
  demo: DemoInfo | undefined;
  /** The gateway's connection to the in-process bus (what seeding uses; tests speak on it as the gateway would). */
  bus: Bus;
  close(): Promise<void>;
}

const SESSION_TTL_SECONDS = 8 * 3600;

/**
 * All four services in one process (DESIGN §8): the same Nest modules as the distributed mode,
 * wired to the in-process bus, the SQLite (or in-memory) log and in-memory projections that are
 * rebuilt from the log before the first request is served.
 */
export async function startEmbeddedServer(config: EmbeddedConfig, logger: Logger): Promise<EmbeddedServer> {
  const kek = config.kek ?? loadOrCreateKekFile(join(config.dataDir, 'kek'));
  const onTightened = logTightened(logger);
  const eventStore: EventStore =
    config.eventStore.kind === 'sqlite'
      ? SqliteEventStore.open(config.eventStore.path, { synchronous: config.eventStore.synchronous, onTightened })
      : new InMemoryEventStore();
  const dataKeys: DataKeyStore =
    config.eventStore.kind === 'sqlite'
      ? SqliteDataKeyStore.open(join(config.dataDir, 'data-keys.db'), kek, { onTightened })
      : new InMemoryDataKeyStore(kek);
  // Memory by default (rebuilt from the log at every start); Redis resumes from its checkpoint.
  const projectionStore = await openProjectionStore(config.projections).catch(async (error: unknown) => {
    await dataKeys.close();
    await eventStore.close();
    throw error;
  });
  const broker = new InProcessBroker();
  const nestLogger = new PinoNestLogger(logger);

  const services: INestMicroservice[] = [];
  const startService = async (module: Parameters<typeof NestFactory.createMicroservice>[0], queue: string) => {
    const bus = new InProcessBus(broker);
    const app = await NestFactory.createMicroservice(module, {
      strategy: new BusTransportServer(bus, queue),
      logger: nestLogger,
    });
    await app.listen();
    services.push(app);
    return app;
  };

  const closeables: Array<INestApplicationContext | { close(): Promise<void> | void }> = [];
  try {
    await startService(ClientRegistryModule.forRoot({ eventStore, projectionStore, logger }), 'client-registry');
    await startService(
      AuthnModule.forRoot({
        eventStore,
        projectionStore,
        dataKeys,
        usernameKey: deriveKey(kek, 'username-digest'),
        loginSourceKey: deriveKey(kek, 'login-source'),
        sessionTtlSeconds: SESSION_TTL_SECONDS,
        argon2: config.argon2,
        logger,
      }),
      'authn',
    );
    const tokenIssuerBus = new InProcessBus(broker);
    await startService(
      TokenIssuerModule.forRoot({
        eventStore,
        projectionStore,
        issuer: config.issuer,
        tenant: config.tenant,
        signingKeySealingKey: deriveKey(kek, 'signing-keys'),
        refreshTokenKey: deriveKey(kek, 'refresh-tokens'),
        bus: tokenIssuerBus,
        lifetimes: config.lifetimes,
        resourceServers: config.resourceServers,
        backchannelLogout: config.backchannelLogout,
        requestTimeoutMs: config.requestTimeoutMs,
        logger,
      }),
      'token-issuer',
    );

    const gatewayBus = new InProcessBus(broker);
    const health = new HealthEndpoints(
      {
        bus: () => gatewayBus.ping(),
        eventStore: () => eventStore.ping(),
        projections: () => projectionStore.ping(),
        followers: () => checkFollowers(config.followerMaxLagMs),
      },
      logger,
    );
    const gateway = await createGatewayHttpApp(
      {
        bus: gatewayBus,
        issuer: config.issuer,
        tenant: config.tenant,
        authzCookies: new SealedTokens(deriveKey(kek, 'authz-cookie'), 'authorization-request'),
        logoutForms: new SealedTokens(deriveKey(kek, 'logout-form'), 'logout-confirmation'),
        initialAccessToken: config.initialAccessToken,
        registrationRate: config.registrationRate,
        trustedProxies: config.trustedProxies,
        requestTimeoutMs: config.requestTimeoutMs,
        logger,
        demoCallback: config.demo !== undefined,
      },
      health,
    );
    // Seed through the bus before listening, so the ready line means the demo user can log in.
    const demo = config.demo ? await seedDemo(gatewayBus, config, config.demo) : undefined;
    await gateway.listen(config.port, config.host);
    closeables.push(gateway);
    const address = gateway.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ port, issuer: config.issuer, eventStore: config.eventStore.kind }, 'embedded IdP listening');


    return {
      url: `http://${config.host}:${port}`,
      demo,
      bus: gatewayBus,
      async close() {
        await gateway.close();
        for (const service of services.reverse()) await service.close();
        await gatewayBus.close();
        await tokenIssuerBus.close();
        await dataKeys.close();
        await projectionStore.close();
        await eventStore.close();
      },
    };
  } catch (error) {
    for (const service of services) await service.close().catch(() => {});
    await projectionStore.close().catch(() => {});
    await dataKeys.close().catch(() => {});
    await eventStore.close().catch(() => {});
    throw error;
  }
}
