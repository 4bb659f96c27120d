import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { Logger } from 'pino';
import { InProcessBroker, InProcessBus } from '../../infra/bus/inproc.js';
import { directHandlersOf } from '../../infra/bus/direct-handlers.js';
import { BusTransportServer } from '../../infra/bus/nest-transport.js';
import type { DataKeyStore } from '../../infra/crypto/data-keys/port.js';
import { deriveKey } from '../../infra/crypto/kek.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { PinoNestLogger } from '../../infra/log/nest-logger.js';
import type { ProjectionStore } from '../../infra/projections/port.js';
import { AuthnModule } from '../authn/adapters/authn.module.js';
import { AuthnMessageController } from '../authn/adapters/authn.message.controller.js';
import { ClientRegistryModule } from '../client-registry/adapters/client-registry.module.js';
import { ClientRegistryMessageController } from '../client-registry/adapters/client-registry.message.controller.js';
import { sealKeyFromSeed } from '../shared/integrity/seal-key.js';
import { TokenIssuerModule } from '../token-issuer/adapters/token-issuer.module.js';
import { TokenIssuerMessageController } from '../token-issuer/adapters/token-issuer.message.controller.js';
import type { EmbeddedConfig } from './config.js';

const SESSION_TTL_SECONDS = 8 * 3600;

export interface EmbeddedServicesOptions {
  config: EmbeddedConfig;
  kek: Buffer;
  eventStore: EventStore;
  dataKeys: DataKeyStore;
  projectionStore: ProjectionStore;
  logger: Logger;
  /**
   * `server` (default): the services as `npm start` runs them. `admin`: the same command
   * handlers for the `idp` command line, without the background work a server does (the
   * back-channel logout sender), so that a CLI process never sends what the server sends.
   */
  role?: 'server' | 'admin';
}

/** The three backend services on one in-process broker; callers get their own connection with `connect`. */
export interface EmbeddedServices {
  /** A new connection to the in-process bus, closed with the services. */
  connect(): InProcessBus;
  close(): Promise<void>;
}

/**
 * Starts client-registry, authn and token-issuer (DESIGN §8): the same Nest modules as the
 * distributed mode, wired to an in-process bus. Resolves once each has caught up with the log.
 * Used by the embedded server and, with role `admin`, by `idp` in embedded mode: administrative
 * commands then take the very code path of the server's own handlers.
 */
export async function startEmbeddedServices(options: EmbeddedServicesOptions): Promise<EmbeddedServices> {
  const { config, kek, eventStore, dataKeys, projectionStore, logger } = options;
  const broker = new InProcessBroker();
  const nestLogger = new PinoNestLogger(logger);
  const services: INestMicroservice[] = [];
  const buses: InProcessBus[] = [];
  const connect = () => {
    const bus = new InProcessBus(broker);
    buses.push(bus);
    return bus;
  };
  // Each service's message controller is called directly with the payload (direct-handlers.ts):
  // in one process, Nest's RPC pipeline around it only costs time (issue 12).
  const startService = async (module: Parameters<typeof NestFactory.createMicroservice>[0], controller: new (...args: never[]) => object, queue: string) => {
    const strategy = new BusTransportServer(new InProcessBus(broker), queue);
    const app = await NestFactory.createMicroservice(module, { strategy, logger: nestLogger });
    services.push(app);
    strategy.serveDirectly(directHandlersOf(app.get(controller)));
    await app.listen();
  };
  const close = async () => {
    for (const service of services.reverse()) await service.close().catch(() => {});
    for (const bus of buses) await bus.close().catch(() => {});
  };

  try {
    await startService(ClientRegistryModule.forRoot({ eventStore, projectionStore, logger }), ClientRegistryMessageController, 'client-registry');
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
      AuthnMessageController,
      'authn',
    );
    await startService(
      TokenIssuerModule.forRoot({
        eventStore,
        projectionStore,
        issuer: config.issuer,
        tenant: config.tenant,
        signingKeySealingKey: deriveKey(kek, 'signing-keys'),
        refreshTokenKey: deriveKey(kek, 'refresh-tokens'),
        bus: connect(),
        lifetimes: config.lifetimes,
        keyActivationDelaySeconds: config.keyActivationDelaySeconds,
        resourceServers: config.resourceServers,
        backchannelLogout: config.backchannelLogout,
        requestTimeoutMs: config.requestTimeoutMs,
        logger,
        backgroundWork: (options.role ?? 'server') === 'server',
        logSeal: { ...config.logSeal, key: sealKeyFromSeed(deriveKey(kek, 'log-seal')) },
      }),
      TokenIssuerMessageController,
      'token-issuer',
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { connect, close };
}
