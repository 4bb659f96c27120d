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
