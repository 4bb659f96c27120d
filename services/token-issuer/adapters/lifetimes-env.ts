import { z } from 'zod';
import { TOKEN_LIFETIMES, type TokenLifetimes } from '../app/token-minter.js';

const Seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

/** Token lifetimes an operator may change (the embedded server and the token-issuer process). */
export const TokenLifetimesEnv = z.object({
  IDP_REFRESH_TOKEN_IDLE_SECONDS: Seconds(TOKEN_LIFETIMES.refreshTokenIdleSeconds, 365 * 24 * 3600),
  IDP_REFRESH_TOKEN_ABSOLUTE_SECONDS: Seconds(TOKEN_LIFETIMES.refreshTokenAbsoluteSeconds, 5 * 365 * 24 * 3600),
});

export function lifetimesFrom(env: z.infer<typeof TokenLifetimesEnv>): TokenLifetimes {
  return {
    ...TOKEN_LIFETIMES,
    refreshTokenIdleSeconds: env.IDP_REFRESH_TOKEN_IDLE_SECONDS,
    refreshTokenAbsoluteSeconds: env.IDP_REFRESH_TOKEN_ABSOLUTE_SECONDS,
  };
}
