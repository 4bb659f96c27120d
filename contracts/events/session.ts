import { z } from 'zod';
import { eventSchema, IsoTime, Sha256Hex } from './define.js';

export const SessionStartedV1 = eventSchema(
  'session.started',
  1,
  z.object({
    sessionId: z.string().uuid(),
    sub: z.string(),
    /** SHA-256 of the secret half of the session cookie `<session id>.<secret>`. */
    secretHash: Sha256Hex,
    authTime: z.number().int(),
    acr: z.string(),
    amr: z.array(z.string()).min(1),
    expiresAt: IsoTime,
  }),
);

export const SessionEvent = z.discriminatedUnion('type', [SessionStartedV1]);
export type SessionEvent = z.infer<typeof SessionEvent>;
