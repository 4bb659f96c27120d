import { z } from 'zod';
import { eventSchema, Sha256Hex } from './define.js';

/**
 * A username is unique per tenant: the first registration claims it in its own stream
 * (`username-<tenant>-<digest>`, appended with no_stream), so two concurrent registrations of one
 * name cannot both win. The name itself never appears: only its keyed digest.
 */
export const UsernameClaimedV1 = eventSchema(
  'username.claimed',
  1,
  z.object({ usernameDigest: Sha256Hex, sub: z.string().min(1) }),
);

export const UsernameEvent = z.discriminatedUnion('type', [UsernameClaimedV1]);
export type UsernameEvent = z.infer<typeof UsernameEvent>;
