import { z } from 'zod';
import { eventSchema, IsoTime } from './define.js';

/**
 * The delivery of one back-channel logout (OpenID Connect Back-Channel Logout 1.0 §2.5): one
 * stream per ended session and client, `backchannel_logout-<tenant>-<session id>.<client id>`,
 * owned by the token-issuer, which signs and sends the logout tokens. Each attempt is claimed by
 * an append at the stream's expected version before the POST, so of several senders exactly one
 * makes it; its outcome is appended after. The logout token itself is never recorded.
 */
const Delivery = { sessionId: z.string().uuid(), clientId: z.string().min(1) };

export const BackchannelLogoutAttemptStartedV1 = eventSchema(
  'backchannel_logout.attempt_started',
  1,
  z.object({
    ...Delivery,
    /** 1-based. */
    attempt: z.number().int().min(1),
    /** The client's backchannel_logout_uri at the time of the attempt. */
    uri: z.string(),
    /** Until then no other sender starts an attempt; after it, the attempt counts as lost. */
    claimExpiresAt: IsoTime,
  }),
);

export const BackchannelLogoutDeliveredV1 = eventSchema(
  'backchannel_logout.delivered',
  1,
  z.object({ ...Delivery, attempt: z.number().int().min(1), status: z.number().int() }),
);

export const BackchannelLogoutFailedV1 = eventSchema(
  'backchannel_logout.failed',
  1,
  z.object({
    ...Delivery,
    attempt: z.number().int().min(1),
    /** The HTTP status the RP answered, or null when there was no answer (`error` says why). */
    status: z.number().int().nullable(),
    error: z.string().max(200).nullable(),
    /** When the next attempt is due; null after the last one. */
    nextAttemptAt: IsoTime.nullable(),
  }),
);

export const BackchannelLogoutAbandonedV1 = eventSchema(
  'backchannel_logout.abandoned',
  1,
  z.object({
    ...Delivery,
    attempts: z.number().int().min(0),
    reason: z.enum(['attempts_exhausted', 'client_gone', 'no_backchannel_logout_uri']),
  }),
);

export const BackchannelLogoutEvent = z.discriminatedUnion('type', [
  BackchannelLogoutAttemptStartedV1,
  BackchannelLogoutDeliveredV1,
  BackchannelLogoutFailedV1,
  BackchannelLogoutAbandonedV1,
]);
export type BackchannelLogoutEvent = z.infer<typeof BackchannelLogoutEvent>;
