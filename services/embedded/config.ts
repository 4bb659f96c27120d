import { join } from 'node:path';
import { z } from 'zod';
import { ProfileClaims } from '../../contracts/profile-claims.js';
import { TenantId } from '../../contracts/tenant.js';
import { BusUrl, EventStoreUrl, ProjectionsUrl } from '../../infra/config/adapter-urls.js';
import { Argon2Env, argon2From, FollowerMaxLagMs, OptionalKek } from '../shared/adapters/service-config.js';
import { RegistrationRateEnv } from '../gateway/app/registration-rate-limit.js';
import { TrustProxyEnv } from '../gateway/app/trusted-proxies.js';
import { backchannelLogoutPolicyFrom, lifetimesFrom, logSealPolicyFrom, TokenIssuerEnv } from '../token-issuer/adapters/token-issuer-env.js';

const Port = z.coerce.number().int().min(0).max(65535);

const EmbeddedEnv = z
  .object({
    PORT: Port.default(3000),
    HOST: z.string().default('127.0.0.1'),
    ISSUER: z.string().url().optional(),
    EVENT_STORE_URL: z
      .string()
      .default('sqlite:./data/idp.db')
      .pipe(EventStoreUrl)
      .refine((store) => store.kind === 'sqlite' || store.kind === 'memory', {
        message: 'the embedded mode keeps its log in sqlite:<path> or memory:; use the per-service processes for nats:// or kurrentdb://',
      })
      .transform((store) => store as Extract<typeof store, { kind: 'sqlite' | 'memory' }>),
    BUS_URL: z
      .string()
      .default('inproc:')
      .pipe(BusUrl)
      .refine((bus) => bus.kind === 'inproc', { message: 'the embedded mode runs its services on BUS_URL=inproc:' }),
    PROJECTIONS_URL: z.string().default('memory:').pipe(ProjectionsUrl),
    IDP_DATA_DIR: z.string().default('./data'),
    IDP_KEK: OptionalKek,
    IDP_TENANT: TenantId.default('default'),
    IDP_DEMO: z.enum(['on', 'off']).default('on'),
    IDP_DEMO_USERNAME: z.string().min(1).default('demo'),
    IDP_DEMO_PASSWORD: z.string().min(1).default('demo'),
    /** The demo user's claims as a JSON object (OIDC Core §5.1); unset: a name, an email, an address. */
    IDP_DEMO_CLAIMS: z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value === '') return undefined;
        try {
          return JSON.parse(value) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be a JSON object of OIDC Core §5.1 claims' });
          return z.NEVER;
        }
      })
      .pipe(ProfileClaims.optional()),
    IDP_INITIAL_ACCESS_TOKEN: z
      .string()
      .optional()
      .transform((v) => (v === '' ? undefined : v)),
    IDP_REGISTRATION_RATE: RegistrationRateEnv,
    IDP_TRUST_PROXY: TrustProxyEnv,
    IDP_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
    IDP_FOLLOWER_MAX_LAG_MS: FollowerMaxLagMs,
    ...Argon2Env.shape,
    ...TokenIssuerEnv.shape,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .transform((env) => ({
    port: env.PORT,
    host: env.HOST,
    issuer: (env.ISSUER ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    eventStore: env.EVENT_STORE_URL,
    bus: env.BUS_URL,
    projections: env.PROJECTIONS_URL,
    dataDir: env.IDP_DATA_DIR,
    kek: env.IDP_KEK,
    tenant: env.IDP_TENANT,
    demo:
      env.IDP_DEMO === 'on'
        ? { username: env.IDP_DEMO_USERNAME, password: env.IDP_DEMO_PASSWORD, claims: env.IDP_DEMO_CLAIMS }
        : undefined,
    initialAccessToken: env.IDP_INITIAL_ACCESS_TOKEN,
    registrationRate: env.IDP_REGISTRATION_RATE,
    trustedProxies: env.IDP_TRUST_PROXY,
    requestTimeoutMs: env.IDP_REQUEST_TIMEOUT_MS,
    followerMaxLagMs: env.IDP_FOLLOWER_MAX_LAG_MS,
    argon2: argon2From(env),
    lifetimes: lifetimesFrom(env),
    keyActivationDelaySeconds: env.IDP_KEY_ACTIVATION_DELAY_SECONDS,
    resourceServers: env.IDP_RESOURCE_SERVERS,
    backchannelLogout: backchannelLogoutPolicyFrom(env),
    // A log in memory dies with the process: an anchor of it would only mislead the next start.
    logSeal: logSealPolicyFrom(env, env.EVENT_STORE_URL.kind === 'sqlite' ? join(env.IDP_DATA_DIR, 'log-anchor.json') : undefined),
    logLevel: env.LOG_LEVEL,
  }));

export type EmbeddedConfig = z.infer<typeof EmbeddedEnv>;

/** Parses the environment once; the only place that reads process.env. */
export function loadEmbeddedConfig(env: NodeJS.ProcessEnv): EmbeddedConfig {
  const parsed = EmbeddedEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`).join('\n');
    throw new Error(`invalid configuration:\n${problems}`);
  }
  return parsed.data;
}
