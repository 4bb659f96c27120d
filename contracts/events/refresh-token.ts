import { z } from 'zod';
import { eventSchema, IsoTime, Sha256Hex } from './define.js';

/**
 * The use of one refresh token: stream `refresh_token-<tenant>-<grant id>.<generation>` (one per
 * rotation epoch of a grant, contracts/streams.ts). Generation 0 is issued by the grant's own
 * stream; the rotation of generation g names generation g+1. So a refresh reads three short
 * streams (the grant, the epoch that issued the token, the token's own epoch), however long the
 * lineage, and the race between two uses of one token is decided by one append to its epoch.
 */
export const RefreshTokenRotatedV1 = eventSchema(
  'refresh_token.rotated',
  1,
  z.object({
    grantId: z.string().uuid(),
    /** The generation that was used. */
    generation: z.number().int().min(0),
    clientId: z.string(),
    rotatedAt: IsoTime,
    /** The scope of the access token issued now: the grant's, or narrower (RFC 6749 §6). */
    scope: z.string(),
    accessTokenIdHash: Sha256Hex,
    accessTokenExpiresAt: IsoTime,
    idTokenIssued: z.boolean(),
    successor: z.object({
      generation: z.number().int().min(1),
      tokenHash: Sha256Hex,
      idleExpiresAt: IsoTime,
    }),
  }),
);

/**
 * The rotated token presented again by its client inside the client's reuse grace window: the
 * same successor is handed out again, with a new access token (recorded here).
 */
export const RefreshTokenRotationRepeatedV1 = eventSchema(
  'refresh_token.rotation_repeated',
  1,
  z.object({
    grantId: z.string().uuid(),
    generation: z.number().int().min(0),
    clientId: z.string(),
    scope: z.string(),
    accessTokenIdHash: Sha256Hex,
    accessTokenExpiresAt: IsoTime,
    idTokenIssued: z.boolean(),
  }),
);

export const RefreshTokenEvent = z.discriminatedUnion('type', [RefreshTokenRotatedV1, RefreshTokenRotationRepeatedV1]);
export type RefreshTokenEvent = z.infer<typeof RefreshTokenEvent>;
