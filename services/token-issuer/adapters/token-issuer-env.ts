import { z } from 'zod';
import { ResourceServers } from '../app/resource-servers.js';
import { TOKEN_LIFETIMES, type TokenLifetimes } from '../app/token-minter.js';
import { JWKS_MAX_AGE_SECONDS } from '../../../contracts/messages/token-issuer.js';
import type { KeyringPolicy } from '../app/keyring.js';
import { DEFAULT_BACKCHANNEL_LOGOUT_POLICY, type BackchannelLogoutPolicy } from '../app/backchannel-logout/delivery-job.js';

const Seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

/** The JWKS max-age plus a minute's margin (clock skew, a slow cache). */
export const DEFAULT_KEY_ACTIVATION_DELAY_SECONDS = JWKS_MAX_AGE_SECONDS + 60;

/** What an operator may set for the token-issuer (the embedded server and the token-issuer process). */
export const TokenIssuerEnv = z.object({
  IDP_REFRESH_TOKEN_IDLE_SECONDS: Seconds(TOKEN_LIFETIMES.refreshTokenIdleSeconds, 365 * 24 * 3600),
  IDP_REFRESH_TOKEN_ABSOLUTE_SECONDS: Seconds(TOKEN_LIFETIMES.refreshTokenAbsoluteSeconds, 5 * 365 * 24 * 3600),
  /** Back-channel logout: attempts per client and session, first retry delay (doubling), POST deadline. */
  IDP_BACKCHANNEL_LOGOUT_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(DEFAULT_BACKCHANNEL_LOGOUT_POLICY.maxAttempts),
  IDP_BACKCHANNEL_LOGOUT_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(DEFAULT_BACKCHANNEL_LOGOUT_POLICY.backoffMs),
  IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(DEFAULT_BACKCHANNEL_LOGOUT_POLICY.timeoutMs),
  /**
   * DESIGN §7: how long a next signing key is in JWKS before it signs; at least the JWKS
   * `Cache-Control` max-age, so that no relying party meets a kid it cannot know yet.
   */
  IDP_KEY_ACTIVATION_DELAY_SECONDS: z.coerce.number().int().min(0).max(30 * 24 * 3600).default(DEFAULT_KEY_ACTIVATION_DELAY_SECONDS),
  /** Seal the log at least this often when anything new was appended: `60s`, `500ms`, `5m` (a bare number is seconds). */
  IDP_LOG_SEAL_INTERVAL: z
    .string()
    .default('60s')
    .transform((value, ctx) => {
      const match = /^(\d+)(ms|s|m)?$/.exec(value.trim());
      const ms = match ? Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[(match[2] ?? 's') as 'ms' | 's' | 'm'] : NaN;
      if (!Number.isSafeInteger(ms) || ms < 10 || ms > 24 * 3600_000) {
        ctx.addIssue({ code: 'custom', message: 'a duration between 10ms and 24h, e.g. 60s, 500ms, 5m' });
        return z.NEVER;
      }
      return ms;
    }),
  /** Seal as soon as this many events were appended since the last seal. */
  IDP_LOG_SEAL_EVERY: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
  /** Where the latest seal is kept outside the store (embedded default: <IDP_DATA_DIR>/log-anchor.json). */
  IDP_LOG_ANCHOR_FILE: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
  /** RFC 8707 resource servers: `<uri>[=<client id>] ...` (see app/resource-servers.ts). */
  IDP_RESOURCE_SERVERS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      try {
        return ResourceServers.parse(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
});

export function lifetimesFrom(env: Pick<z.infer<typeof TokenIssuerEnv>, 'IDP_REFRESH_TOKEN_IDLE_SECONDS' | 'IDP_REFRESH_TOKEN_ABSOLUTE_SECONDS'>): TokenLifetimes {
  return {
    ...TOKEN_LIFETIMES,
    refreshTokenIdleSeconds: env.IDP_REFRESH_TOKEN_IDLE_SECONDS,
    refreshTokenAbsoluteSeconds: env.IDP_REFRESH_TOKEN_ABSOLUTE_SECONDS,
  };
}

export function backchannelLogoutPolicyFrom(
  env: Pick<z.infer<typeof TokenIssuerEnv>, 'IDP_BACKCHANNEL_LOGOUT_ATTEMPTS' | 'IDP_BACKCHANNEL_LOGOUT_BACKOFF_MS' | 'IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS'>,
): BackchannelLogoutPolicy {
  return {
    maxAttempts: env.IDP_BACKCHANNEL_LOGOUT_ATTEMPTS,
    backoffMs: env.IDP_BACKCHANNEL_LOGOUT_BACKOFF_MS,
    timeoutMs: env.IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS,
  };
}

/**
 * The keyring's timing: a next key activates after IDP_KEY_ACTIVATION_DELAY_SECONDS; a retired
 * key stays in JWKS for the longest lifetime of a token the keyring signs (access and ID
 * tokens; logout tokens and signed introspection answers are shorter); each replica reads the
 * keyring stream again at most every second.
 */
export function keyringPolicyFrom(activationDelaySeconds: number, lifetimes: TokenLifetimes): KeyringPolicy {
  return {
    activationDelaySeconds,
    retentionSeconds: Math.max(lifetimes.accessTokenSeconds, lifetimes.idTokenSeconds),
    refreshIntervalMs: KEYRING_REFRESH_INTERVAL_MS,
  };
}

export const KEYRING_REFRESH_INTERVAL_MS = 1_000;
/** How the token-issuer seals the log (contracts/events/log.ts), without the key. */
export interface LogSealPolicy {
  intervalMs: number;
  everyEvents: number;
  anchorFile: string | undefined;
}

export function logSealPolicyFrom(
  env: Pick<z.infer<typeof TokenIssuerEnv>, 'IDP_LOG_SEAL_INTERVAL' | 'IDP_LOG_SEAL_EVERY' | 'IDP_LOG_ANCHOR_FILE'>,
  defaultAnchorFile?: string,
): LogSealPolicy {
  return { intervalMs: env.IDP_LOG_SEAL_INTERVAL, everyEvents: env.IDP_LOG_SEAL_EVERY, anchorFile: env.IDP_LOG_ANCHOR_FILE ?? defaultAnchorFile };
}
