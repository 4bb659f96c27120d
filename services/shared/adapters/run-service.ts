import 'reflect-metadata';
import type { DynamicModule, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { directHandlersOf } from '../../../infra/bus/direct-handlers.js';
import { NatsBus } from '../../../infra/bus/nats.js';
import { BusTransportServer } from '../../../infra/bus/nest-transport.js';
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
  /** The module's message controller, whose @MessagePattern methods answer the service's subjects. */
  controller: new (...args: never[]) => object;
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
 *
 * The message controller is served by a BusTransportServer over a NatsBus, its methods called with
 * the payload past Nest's RPC pipeline (direct-handlers.ts, as in the embedded mode; issue 12):
 * the same Nest packets on the wire as Nest's ServerNats, without its RxJS round per message.
 */
export async function runBackendService(service: BackendService): Promise<void> {
  const { config, logger } = service;
  // On close it withdraws the handlers, then lets those running reply (as long as a caller waits).
  const serving = await NatsBus.connect(config.BUS_URL.url, { name: service.name, connection: service.nats });
  const strategy = new BusTransportServer(serving, service.name);
  const app: INestMicroservice = await NestFactory.createMicroservice(service.module, {
    strategy,
    logger: new PinoNestLogger(logger),
  });
  strategy.serveDirectly(directHandlersOf(app.get(service.controller)));
  let handlersSubscribed = false;

  const health = new HealthEndpoints(
    {
      // Ready only once the handlers are subscribed at the server (the connection alone is not).
      bus: async () => {
        if (!handlersSubscribed) throw new Error('bus: the handlers are not subscribed yet');
        await serving.ping();
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
  await serving.flush();
  handlersSubscribed = true;
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
      // Unsubscribed at the server first (what was received is still handled), the in-flight
      // handlers reply, NATS closes; then Nest's shutdown hooks run.
      await serving.close();
      await app.close();
      for (const closeable of service.closeables ?? []) await closeable.close();
      await service.projectionStore.close();
      await service.eventStore.close();
      await new Promise((resolve) => healthServer.close(resolve));
    },
  });
}
