import { z } from 'zod';
import { NatsBus } from '../../infra/bus/nats.js';
import { credentialsFromEnv, natsConnectionOptions, NatsCredentialsEnv } from '../../infra/bus/nats-connection-options.js';
import { BusUrl } from '../../infra/config/adapter-urls.js';
import { deriveKey } from '../../infra/crypto/kek.js';
import { SealedTokens } from '../../infra/crypto/sealed-token.js';
import { createLogger } from '../../infra/log/logger.js';
import { TenantId } from '../../contracts/tenant.js';
import { HealthEndpoints } from '../shared/adapters/health-server.js';
import { exitGracefullyOnSignal } from '../shared/adapters/graceful-shutdown.js';
import { IssuerUrl, Kek, parseEnv } from '../shared/adapters/service-config.js';
import { RegistrationRateEnv } from './app/registration-rate-limit.js';
import { TrustProxyEnv } from './app/trusted-proxies.js';
import { createGatewayHttpApp } from './adapters/gateway-http-app.js';

const GatewayEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  ISSUER: IssuerUrl,
  BUS_URL: z
    .string()
    .pipe(BusUrl)
    .refine((bus) => bus.kind === 'nats', { message: 'the gateway process talks to the services over BUS_URL=nats://…' })
    .transform((bus) => bus as Extract<typeof bus, { kind: 'nats' }>),
  IDP_TENANT: TenantId.default('default'),
  IDP_KEK: Kek,
  IDP_INITIAL_ACCESS_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
  IDP_REGISTRATION_RATE: RegistrationRateEnv,
  IDP_TRUST_PROXY: TrustProxyEnv,
  IDP_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  HEALTH_HOST: z.string().default('0.0.0.0'),
  IDP_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(20000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
}).extend(NatsCredentialsEnv.shape);

const config = parseEnv(GatewayEnv, process.env, 'gateway');
const logger = createLogger({ level: config.LOG_LEVEL, name: 'gateway' });
const bus = await NatsBus.connect(config.BUS_URL.url, {
  name: 'gateway',
  connection: natsConnectionOptions(config.BUS_URL.url, credentialsFromEnv('gateway', config)),
});
const health = new HealthEndpoints({ bus: () => bus.ping() }, logger);
const app = await createGatewayHttpApp(
  {
    bus,
    issuer: config.ISSUER,
    tenant: config.IDP_TENANT,
    authzCookies: new SealedTokens(deriveKey(config.IDP_KEK, 'authz-cookie'), 'authorization-request'),
    logoutForms: new SealedTokens(deriveKey(config.IDP_KEK, 'logout-form'), 'logout-confirmation'),
    initialAccessToken: config.IDP_INITIAL_ACCESS_TOKEN,
    registrationRate: config.IDP_REGISTRATION_RATE,
    trustedProxies: config.IDP_TRUST_PROXY,
    requestTimeoutMs: config.IDP_REQUEST_TIMEOUT_MS,
    logger,
  },
  health,
  // The public port answers liveness only; readiness and metrics stay on HEALTH_PORT.
  config.HEALTH_PORT === config.PORT ? ['/healthz', '/readyz', '/metrics'] : ['/healthz'],
);
await app.listen(config.PORT, config.HOST);
const healthServer = config.HEALTH_PORT === config.PORT ? undefined : await health.listen(config.HEALTH_PORT, config.HEALTH_HOST);
logger.info({ port: config.PORT, healthPort: config.HEALTH_PORT, issuer: config.ISSUER }, 'gateway listening');

exitGracefullyOnSignal({
  logger,
  health,
  timeoutMs: config.IDP_SHUTDOWN_TIMEOUT_MS,
  async shutdown() {
    await app.close(); // Fastify stops accepting and waits for in-flight requests
    await bus.close();
    if (healthServer) await new Promise((resolve) => healthServer.close(resolve));
  },
});
