import { z } from 'zod';
import { eventSchema, Sha256Hex } from './define.js';

/**
 * One successful password login: who (`sub`), through which client (`clientId`, null for the
 * login page of no client), when (the event's time). Exactly one per login, written where the
 * login's decision appends: on the user's stream when the login changes the user's state (it
 * resets a failure count, or its hash is rehashed), else as the only event of the login's own
 * stream `authentication-<tenant>-<id>`, so that logins never lengthen the user's stream.
 */
export const AuthenticationSucceededV1 = eventSchema(
  'authentication.succeeded',
  1,
  z.object({ sub: z.string(), method: z.literal('pwd'), clientId: z.string().nullable() }),
);

/**
 * Version 2 adds the attempt's source, on the user's stream only: the login throttle counts
 * failures per source, and a success resets its own source's count. `source` is the HMAC of the
 * client IP (keyed like the username digest), never the IP; null when the gateway gave none.
 */
export const AuthenticationSucceededV2 = eventSchema(
  'authentication.succeeded',
  2,
  z.object({ sub: z.string(), method: z.literal('pwd'), clientId: z.string().nullable(), source: Sha256Hex.nullable() }),
);

/** The events of an `authentication-…` stream: one login each. */
export const AuthenticationEvent = z.discriminatedUnion('type', [AuthenticationSucceededV1]);
export type AuthenticationEvent = z.infer<typeof AuthenticationEvent>;
