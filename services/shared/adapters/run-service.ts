import 'reflect-metadata';
import type { DynamicModule, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { natsMicroserviceOptions } from '../../../infra/bus/nats-microservice.js';
import type { NatsConnectionOptions } from '../../../infra/bus/nats-connection-options.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import { EventRelay } from '../../../infra/event-relay/relay.js';
import { checkFollowers } from '../../../infra/followers/registry.js';
import { PinoNestLogger } from '../../../infra/log/nest-logger.js';
import { settledDigest } from '../../../infra/projections/live-digest.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { exitGracefullyOnSignal } from './graceful-shutdown.js';
import { HealthEndpoints, type ReadinessCheck } from './health-server.js';
import type { KekEnv, ServiceEnv } from './service-config.js';
import type { z } from 'zod';

export interface BackendService {
  name: 'authn' | 'client-registry' | 'token-issuer';
  module: DynamicModule;
  config: z.infer<typeof ServiceEnv> & Partial<z.infer<typeof KekEnv>>;
  eventStore: EventStore;
  projectionStore: ProjectionStore;
  /**
   * The checkpoints that write the service's projection namespace (its projector's first): the
   * live digest on HEALTH_PORT (/projections/digest) is settled when they agree.
   */
  projectionCheckpoints: readonly string[];
  extraChecks?: Record<string, ReadinessCheck>;
  /** Closed last, after the service stopped taking requests. */
  closeables?: Array<{ close(): Promise<void> }>;
  logger: Logger;
  /** The service's NATS credentials, inbox prefix and TLS, for every connection it makes. */
  nats: NatsConnectionOptions;
}

/**
 * Runs one backend service as its own process (DESIGN §8): its Nest controllers served over
 * NATS in the service's queue group, /healthz /readyz /metrics on HEALTH_PORT, optionally the
 * leader-elected live event relay, and a graceful shutdown on SIGTERM / SIGINT: not ready first,
 * then unsubscribe and let in-flight requests reply, then close the adapters.
 */
export async function runBackendService(service: BackendService): Promise<void> {
  const { config, logger } = service;
  let busStatus = 'connecting';
  const app: INestMicroservice = await NestFactory.createMicroservice(service.module, {
    ...natsMicroserviceOptions(config.BUS_URL.url, service.name, {}, service.nats),
    logger: new PinoNestLogger(logger),
  });
  app.status.subscribe((status) => {
    busStatus = status;
    logger.info({ status }, 'bus status');
  });

  const health = new HealthEndpoints(
    {
      bus: async () => {
        if (busStatus !== 'connected') throw new Error(`bus ${busStatus}`);
      },
      eventStore: () => service.eventStore.ping(),
      projections: () => service.projectionStore.ping(),
      followers: () => checkFollowers(config.IDP_FOLLOWER_MAX_LAG_MS),
      ...service.extraChecks,
    },
    logger,
    async (now) => [await settledDigest(service.projectionStore, { name: service.name, checkpoints: service.projectionCheckpoints }, now)],
  );
  const healthServer = await health.listen(config.HEALTH_PORT, config.HEALTH_HOST);
  await app.listen();
  // listen() resolves before the NATS server has applied the subscriptions: one round trip
  // makes sure the first request routed here finds its responder.
  await app.unwrap<{ flush(): Promise<void> }>().flush();
  const relay =
    config.IDP_EVENT_RELAY === 'on' && config.BUS_URL.kind === 'nats'
      ? await EventRelay.start({
          store: service.eventStore,
          natsUrl: config.BUS_URL.url,
          connection: service.nats,
          logger: logger.child({ component: 'event-relay' }),
        })
      : undefined;
  logger.info({ service: service.name, healthPort: config.HEALTH_PORT }, 'service ready');

  exitGracefullyOnSignal({
    logger,
    health,
    timeoutMs: config.IDP_SHUTDOWN_TIMEOUT_MS,
    async shutdown() {
      await relay?.stop();
      await app.close(); // unsubscribes, lets in-flight handlers reply, then closes NATS
      for (const closeable of service.closeables ?? []) await closeable.close();
      await service.projectionStore.close();
      await service.eventStore.close();
      await new Promise((resolve) => healthServer.close(resolve));
    },
  });
}
