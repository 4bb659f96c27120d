import { credentialsFromEnv, natsConnectionOptions } from '../../infra/bus/nats-connection-options.js';
import { deriveKey } from '../../infra/crypto/kek.js';
import { createLogger } from '../../infra/log/logger.js';
import { openEventStore, openProjectionStore, backendProjectionAccess } from '../shared/adapters/open-adapters.js';
import { runBackendService } from '../shared/adapters/run-service.js';
import { IssuerUrl, KekEnv, parseEnv, ServiceEnv } from '../shared/adapters/service-config.js';
import { NatsBus } from '../../infra/bus/nats.js';
import { sealKeyFromSeed } from '../shared/integrity/seal-key.js';
import { backchannelLogoutPolicyFrom, lifetimesFrom, logSealPolicyFrom, TokenIssuerEnv } from './adapters/token-issuer-env.js';
import { TokenIssuerModule } from './adapters/token-issuer.module.js';
import { TOKEN_ISSUER_CHECKPOINT } from './projections/token-issuer.projections.js';
import { BACKCHANNEL_LOGOUT_CHECKPOINT } from './app/backchannel-logout/sender.js';
import { TokenIssuerMessageController } from './adapters/token-issuer.message.controller.js';

const config = parseEnv(ServiceEnv.extend(KekEnv.shape).extend(TokenIssuerEnv.shape).extend({ ISSUER: IssuerUrl }), process.env, 'token-issuer');
const logger = createLogger({ level: config.LOG_LEVEL, name: 'token-issuer' });
// Every NATS connection of the process presents the service's identity (IDP_NATS_SEED) and TLS settings.
const nats = natsConnectionOptions(config.BUS_URL.url, credentialsFromEnv('token-issuer', config));
const eventStore = await openEventStore(config.EVENT_STORE_URL, { logger: logger.child({ component: 'event-store' }), nats });
const projectionStore = await openProjectionStore(config.PROJECTIONS_URL, backendProjectionAccess('token-issuer', config));
// The client watermarks the client-registry writes through in its own namespace (read-only).
const clientWatermarks = await openProjectionStore(config.PROJECTIONS_URL, backendProjectionAccess('token-issuer', config, 'client-registry'));
// The user watermarks authn writes through in its own namespace (read-only).
const userWatermarks = await openProjectionStore(config.PROJECTIONS_URL, backendProjectionAccess('token-issuer', config, 'authn'));
// The token-issuer's own calls to the other services (authn, for the password grant).
const bus = await NatsBus.connect(config.BUS_URL.url, { name: 'token-issuer-client', connection: nats });

await runBackendService({
  name: 'token-issuer',
  controller: TokenIssuerMessageController,
  module: TokenIssuerModule.forRoot({
    eventStore,
    projectionStore,
    clientWatermarks,
    userWatermarks,
    issuer: config.ISSUER,
    tenant: config.IDP_TENANT,
    signingKeySealingKey: deriveKey(config.IDP_KEK, 'signing-keys'),
    refreshTokenKey: deriveKey(config.IDP_KEK, 'refresh-tokens'),
    bus,
    lifetimes: lifetimesFrom(config),
    keyActivationDelaySeconds: config.IDP_KEY_ACTIVATION_DELAY_SECONDS,
    resourceServers: config.IDP_RESOURCE_SERVERS,
    backchannelLogout: backchannelLogoutPolicyFrom(config),
    // Every replica signs seals with the same KEK-derived key; the anchor file only where one is set.
    logSeal: { ...logSealPolicyFrom(config), key: sealKeyFromSeed(deriveKey(config.IDP_KEK, 'log-seal')) },
    logger,
  }),
  config,
  eventStore,
  projectionStore,
  projectionCheckpoints: [TOKEN_ISSUER_CHECKPOINT, BACKCHANNEL_LOGOUT_CHECKPOINT],
  closeables: [bus, clientWatermarks, userWatermarks],
  logger,
  nats,
});
