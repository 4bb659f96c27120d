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

/** Why a session ended. */
export const SessionEndReason = z.enum([
  /** A relying party sent the user to the end_session_endpoint (RP-Initiated Logout 1.0). */
  'rp_initiated_logout',
  /** The user logged out at the OP without a relying party asking. */
  'user_logout',
  /** An administrator ended it. */
  'admin',
]);
export type SessionEndReason = z.infer<typeof SessionEndReason>;

/**
 * The session is over: it no longer authenticates anyone, and every client that took part in it
 * and registered a back-channel logout URI is told (OIDC Back-Channel Logout 1.0).
 */
export const SessionEndedV1 = eventSchema(
  'session.ended',
  1,
  z.object({
    sessionId: z.string().uuid(),
    sub: z.string(),
    reason: SessionEndReason,
    /** The relying party that asked (identified by its ID token hint or client_id), if any. */
    clientId: z.string().nullable(),
  }),
);

export const SessionEvent = z.discriminatedUnion('type', [SessionStartedV1, SessionEndedV1]);
export type SessionEvent = z.infer<typeof SessionEvent>;
