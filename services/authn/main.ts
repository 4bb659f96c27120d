import { credentialsFromEnv, natsConnectionOptions } from '../../infra/bus/nats-connection-options.js';
import { deriveKey } from '../../infra/crypto/kek.js';
import { createLogger } from '../../infra/log/logger.js';
import { openDataKeyStore, openEventStore, openProjectionStore, backendProjectionAccess } from '../shared/adapters/open-adapters.js';
import { runBackendService } from '../shared/adapters/run-service.js';
import { Argon2Env, argon2From, DataKeysEnv, KekEnv, parseEnv, ServiceEnv } from '../shared/adapters/service-config.js';
import { AuthnModule } from './adapters/authn.module.js';
import { AUTHN_CHECKPOINT } from './projections/authn.projections.js';
import { AuthnMessageController } from './adapters/authn.message.controller.js';

const SESSION_TTL_SECONDS = 8 * 3600;

const config = parseEnv(ServiceEnv.extend(KekEnv.shape).extend(DataKeysEnv.shape).extend(Argon2Env.shape), process.env, 'authn');
const logger = createLogger({ level: config.LOG_LEVEL, name: 'authn' });
// Every NATS connection of the process presents the service's identity (IDP_NATS_SEED) and TLS settings.
const nats = natsConnectionOptions(config.BUS_URL.url, credentialsFromEnv('authn', config));
const eventStore = await openEventStore(config.EVENT_STORE_URL, { logger: logger.child({ component: 'event-store' }), nats });
const projectionStore = await openProjectionStore(config.PROJECTIONS_URL, backendProjectionAccess('authn', config));
const dataKeys = await openDataKeyStore(config.IDP_DATA_KEYS_URL, config.IDP_KEK, { logger: logger.child({ component: 'data-keys' }), nats });

await runBackendService({
  name: 'authn',
  controller: AuthnMessageController,
  module: AuthnModule.forRoot({
    eventStore,
    projectionStore,
    dataKeys,
    usernameKey: deriveKey(config.IDP_KEK, 'username-digest'),
    loginSourceKey: deriveKey(config.IDP_KEK, 'login-source'),
    sessionTtlSeconds: SESSION_TTL_SECONDS,
    argon2: argon2From(config),
    logger,
  }),
  config,
  eventStore,
  projectionStore,
  projectionCheckpoints: [AUTHN_CHECKPOINT],
  ...(dataKeys.ping ? { extraChecks: { dataKeys: () => dataKeys.ping!() } } : {}),
  closeables: [dataKeys],
  logger,
  nats,
});
