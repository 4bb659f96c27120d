import { z } from 'zod';
import { eventSchema } from './define.js';

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

/** The events of an `authentication-…` stream: one login each. */
export const AuthenticationEvent = z.discriminatedUnion('type', [AuthenticationSucceededV1]);
export type AuthenticationEvent = z.infer<typeof AuthenticationEvent>;
