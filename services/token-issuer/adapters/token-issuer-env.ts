import { z } from 'zod';
import { ResourceServers } from '../app/resource-servers.js';
import { TOKEN_LIFETIMES, type TokenLifetimes } from '../app/token-minter.js';
import { DEFAULT_BACKCHANNEL_LOGOUT_POLICY, type BackchannelLogoutPolicy } from '../app/backchannel-logout/delivery-job.js';

const Seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

/** What an operator may set for the token-issuer (the embedded server and the token-issuer process). */
export const TokenIssuerEnv = z.object({
  IDP_REFRESH_TOKEN_IDLE_SECONDS: Seconds(TOKEN_LIFETIMES.refreshTokenIdleSeconds, 365 * 24 * 3600),
  IDP_REFRESH_TOKEN_ABSOLUTE_SECONDS: Seconds(TOKEN_LIFETIMES.refreshTokenAbsoluteSeconds, 5 * 365 * 24 * 3600),
  /** Back-channel logout: attempts per client and session, first retry delay (doubling), POST deadline. */
  IDP_BACKCHANNEL_LOGOUT_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(DEFAULT_BACKCHANNEL_LOGOUT_POLICY.maxAttempts),
  IDP_BACKCHANNEL_LOGOUT_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(DEFAULT_BACKCHANNEL_LOGOUT_POLICY.backoffMs),
  IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(DEFAULT_BACKCHANNEL_LOGOUT_POLICY.timeoutMs),
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
