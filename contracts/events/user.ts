import { z } from 'zod';
import { eventSchema, IsoTime, Sha256Hex, SealedJson } from './define.js';

export const UserRegisteredV1 = eventSchema(
  'user.registered',
  1,
  z.object({
    sub: z.string().min(1),
    /** SHA-256 of `<tenant>:<lower-cased username>`: the lookup key, not the name itself. */
    usernameDigest: Sha256Hex,
    /** argon2id PHC string. */
    passwordHash: z.string().startsWith('$argon2id$'),
    /** Personal claims (username, name, email), sealed with the user's data key. */
    profile: SealedJson,
  }),
);

export const AuthenticationSucceededV1 = eventSchema(
  'authentication.succeeded',
  1,
  z.object({ sub: z.string(), method: z.literal('pwd'), clientId: z.string().nullable() }),
);

export const AuthenticationFailedV1 = eventSchema(
  'authentication.failed',
  1,
  z.object({
    sub: z.string(),
    reason: z.enum(['invalid_password']),
    clientId: z.string().nullable(),
    /** When it failed: the login throttle of the user aggregate counts from it. */
    at: IsoTime,
  }),
);

export const UserEvent = z.discriminatedUnion('type', [
  UserRegisteredV1,
  AuthenticationSucceededV1,
  AuthenticationFailedV1,
]);
export type UserEvent = z.infer<typeof UserEvent>;

/** What `profile` decrypts to. */
export const UserProfile = z.object({
  preferred_username: z.string(),
  name: z.string().optional(),
  email: z.string().optional(),
  email_verified: z.boolean().optional(),
});
export type UserProfile = z.infer<typeof UserProfile>;
