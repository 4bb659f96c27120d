import 'reflect-metadata';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Bus } from '../../infra/bus/port.js';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import type { DataKeyStore } from '../../infra/crypto/data-keys/port.js';
import { SqliteDataKeyStore } from '../../infra/crypto/data-keys/sqlite.js';
import { deriveKey, loadOrCreateKekFile } from '../../infra/crypto/kek.js';
import { SealedTokens } from '../../infra/crypto/sealed-token.js';
import { logTightened } from '../../infra/files/private-files.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { checkFollowers } from '../../infra/followers/registry.js';
import { settledDigest, type LiveDigest } from '../../infra/projections/live-digest.js';
import { createGatewayHttpApp } from '../gateway/adapters/gateway-http-app.js';
import { HealthEndpoints } from '../shared/adapters/health-server.js';
import { openProjectionStore } from '../shared/adapters/open-adapters.js';
import type { EmbeddedConfig } from './config.js';
import { seedDemo, type DemoInfo } from './demo-seed.js';
import { startEmbeddedServices, type EmbeddedServices } from './embedded-services.js';
import { inNamespace, PROJECTIONS } from './projection-catalogue.js';

export interface EmbeddedServer {
  url: string;
  demo: DemoInfo | undefined;
  /** The gateway's connection to the in-process bus (what seeding uses; tests speak on it as the gateway would). */
  bus: Bus;
  close(): Promise<void>;
}

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
  let services: EmbeddedServices | undefined;
  try {
    services = await startEmbeddedServices({ config, kek, eventStore, dataKeys, projectionStore, logger });
    const gatewayBus = services.connect();
    const health = new HealthEndpoints(
      {
        bus: () => gatewayBus.ping(),
        eventStore: () => eventStore.ping(),
        projections: () => projectionStore.ping(),
        followers: () => checkFollowers(config.followerMaxLagMs),
      },
      logger,
      // One store holds every namespace here: each digest takes its key families.
      async (now) => {
        const digests: LiveDigest[] = [];
        for (const namespace of PROJECTIONS) {
          const include = (key: string) => inNamespace(namespace, key);
          digests.push(await settledDigest(projectionStore, { name: namespace.service, checkpoints: namespace.checkpoints, include }, now));
        }
        return digests;
      },
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
    const address = gateway.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ port, issuer: config.issuer, eventStore: config.eventStore.kind }, 'embedded IdP listening');

    return {
      url: `http://${config.host}:${port}`,
      demo,
      bus: gatewayBus,
      async close() {
        await gateway.close();
        await services?.close();
        await dataKeys.close();
        await projectionStore.close();
        await eventStore.close();
      },
    };
  } catch (error) {
    await services?.close().catch(() => {});
    await projectionStore.close().catch(() => {});
    await dataKeys.close().catch(() => {});
    await eventStore.close().catch(() => {});
    throw error;
  }
}
