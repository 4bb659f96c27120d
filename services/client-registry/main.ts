import { credentialsFromEnv, natsConnectionOptions } from '../../infra/bus/nats-connection-options.js';
import { createLogger } from '../../infra/log/logger.js';
import { openEventStore, openProjectionStore, backendProjectionAccess } from '../shared/adapters/open-adapters.js';
import { runBackendService } from '../shared/adapters/run-service.js';
import { parseEnv, ServiceEnv } from '../shared/adapters/service-config.js';
import { ClientRegistryModule } from './adapters/client-registry.module.js';
import { CLIENT_REGISTRY_CHECKPOINT } from './projections/client-by-id.js';
import { ClientRegistryMessageController } from './adapters/client-registry.message.controller.js';

const config = parseEnv(ServiceEnv, process.env, 'client-registry');
const logger = createLogger({ level: config.LOG_LEVEL, name: 'client-registry' });
// Every NATS connection of the process presents the service's identity (IDP_NATS_SEED) and TLS settings.
const nats = natsConnectionOptions(config.BUS_URL.url, credentialsFromEnv('client-registry', config));
const eventStore = await openEventStore(config.EVENT_STORE_URL, { logger: logger.child({ component: 'event-store' }), nats });
const projectionStore = await openProjectionStore(config.PROJECTIONS_URL, backendProjectionAccess('client-registry', config));

await runBackendService({
  name: 'client-registry',
  controller: ClientRegistryMessageController,
  module: ClientRegistryModule.forRoot({ eventStore, projectionStore, logger }),
  config,
  eventStore,
  projectionStore,
  projectionCheckpoints: [CLIENT_REGISTRY_CHECKPOINT],
  logger,
  nats,
});
