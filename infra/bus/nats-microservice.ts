import { type NatsOptions, Transport } from '@nestjs/microservices';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './port.js';
import type { NatsConnectionOptions } from './nats-connection-options.js';

export interface NatsMicroserviceTuning {
  /**
   * On close, how long the service keeps its connection after withdrawing its subscriptions,
   * so requests already being handled can still reply. Nest waits this long unconditionally
   * (its default is 10 s); by default, as long as a caller waits for a reply.
   */
  gracePeriodMs?: number;
}

/**
 * What a Nest microservice passes to `NestFactory.createMicroservice(Module, options)` to serve its
 * @MessagePattern('idp.<service>.<verb>') handlers over NATS with Nest's stock ServerNats. Our
 * services are served by a BusTransportServer over a NatsBus instead (run-service.ts, issue 12);
 * this stays as the reference they answer like (test/unit/nats-nest-interop.test.ts):
 * every handler joins queue group `queue` (the service name), so the instances of a service
 * share its requests and each request is answered once. A handler may still pick its own group
 * with @MessagePattern(subject, { queue }).
 *
 * Note that ServerNats subscribes @EventPattern handlers in the same queue group: an event
 * reaches one instance of each service, not every instance.
 */
export function natsMicroserviceOptions(
  url: string,
  queue: string,
  tuning: NatsMicroserviceTuning = {},
  connection: NatsConnectionOptions = {},
): NatsOptions {
  return {
    transport: Transport.NATS,
    options: {
      // The service's credentials, inbox prefix and TLS (nats-connection-options.ts).
      ...connection,
      servers: [url],
      queue,
      // The connection's name, as the NATS server's monitoring shows it.
      name: queue,
      // A service outlives a NATS outage: keep reconnecting (nats.js gives up after 10 tries).
      maxReconnectAttempts: -1,
      // On close: unsubscribe first (new requests get "no responders" at once, or go to another
      // instance), let in-flight handlers reply, then close the connection.
      gracefulShutdown: true,
      gracePeriod: tuning.gracePeriodMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    },
  };
}
