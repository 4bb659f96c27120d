import { z } from 'zod';
import { TenantId } from '../../../contracts/tenant.js';
import { BusUrl, DataKeysUrl, EventStoreUrl, ProjectionsUrl } from '../../../infra/config/adapter-urls.js';
import { parseKek } from '../../../infra/crypto/kek.js';
import { DEFAULT_ARGON2, type Argon2Parameters } from '../../../infra/crypto/passwords.js';
import { NatsCredentialsEnv } from '../../../infra/bus/nats-connection-options.js';

/** A 32-byte key-encryption key, base64url (a Kubernetes Secret); never in the log. */
export const Kek = z.string().transform((value, ctx) => {
  try {
    return parseKek(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** IDP_KEK where it may be absent (the embedded mode and `idp` then read the KEK file); '' counts as unset. */
export const OptionalKek = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(Kek.optional());

/**
 * Readiness fails when a log follower (projector, relay) is further behind the log than this:
 * the age of the oldest event it has not applied yet (README, "When a follower's target fails").
 */
export const FollowerMaxLagMs = z.coerce.number().int().positive().default(10_000);

/**
 * argon2id parameters for new password hashes (authn): IDP_ARGON2_MEMORY_KIB, _TIME_COST and
 * _PARALLELISM, OWASP's recommended setting by default (infra/crypto/passwords.ts).
 */
export const Argon2Env = z.object({
  IDP_ARGON2_MEMORY_KIB: z.coerce.number().int().min(8 * 1024).max(4 * 1024 * 1024).default(DEFAULT_ARGON2.memoryCost),
  IDP_ARGON2_TIME_COST: z.coerce.number().int().min(1).max(20).default(DEFAULT_ARGON2.timeCost),
  IDP_ARGON2_PARALLELISM: z.coerce.number().int().min(1).max(16).default(DEFAULT_ARGON2.parallelism),
});

export function argon2From(env: z.infer<typeof Argon2Env>): Argon2Parameters {
  return { memoryCost: env.IDP_ARGON2_MEMORY_KIB, timeCost: env.IDP_ARGON2_TIME_COST, parallelism: env.IDP_ARGON2_PARALLELISM };
}

/** Only the services that seal or unseal something get the KEK (least privilege). */
export const KekEnv = z.object({ IDP_KEK: Kek });

/**
 * The environment every distributed backend service reads (DESIGN §8): one URL per port, the tenant,
 * logging and the health port. Each service's main.ts extends it; nothing else reads process.env.
 */
export const ServiceEnv = z.object({
  EVENT_STORE_URL: z.string().pipe(EventStoreUrl),
  BUS_URL: z
    .string()
    .pipe(BusUrl)
    .refine((bus) => bus.kind === 'nats', { message: 'separate service processes talk over BUS_URL=nats://…' })
    .transform((bus) => bus as Extract<typeof bus, { kind: 'nats' }>),
  PROJECTIONS_URL: z.string().pipe(ProjectionsUrl),
  IDP_TENANT: TenantId.default('default'),
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  HEALTH_HOST: z.string().default('0.0.0.0'),
  IDP_EVENT_RELAY: z.enum(['on', 'off']).default('on'),
  IDP_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(20000),
  IDP_FOLLOWER_MAX_LAG_MS: FollowerMaxLagMs,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * The Redis ACL user of the projection store (README, "Security"): the service's name unless
   * set; used only with a password (without one, nothing is sent: Redis's default user).
   */
  IDP_REDIS_USERNAME: z.string().min(1).optional(),
  IDP_REDIS_PASSWORD: z.string().min(1).optional(),
  /** PEM file of the CA that signed Redis's certificate, for a rediss:// PROJECTIONS_URL. */
  IDP_REDIS_CA: z.string().min(1).optional(),
}).extend(NatsCredentialsEnv.shape);

export const IssuerUrl = z
  .string()
  .url()
  .transform((url) => url.replace(/\/+$/, ''));

export const DataKeysEnv = z.object({ IDP_DATA_KEYS_URL: z.string().pipe(DataKeysUrl) });

/** Parses the environment once with a message naming every bad variable. */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, service: string): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`).join('\n');
    throw new Error(`${service}: invalid configuration:\n${problems}`);
  }
  return parsed.data;
}
