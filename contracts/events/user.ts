import { z } from 'zod';
import { AuthenticationSucceededV1 } from './authentication.js';
import { eventSchema, IsoTime, Sha256Hex, SealedJson } from './define.js';

/** An argon2id hash in its PHC string form, which carries its own parameters. */
const Argon2idPhc = z.string().startsWith('$argon2id$');

export const UserRegisteredV1 = eventSchema(
  'user.registered',
  1,
  z.object({
    sub: z.string().min(1),
    /** SHA-256 of `<tenant>:<lower-cased username>`: the lookup key, not the name itself. */
    usernameDigest: Sha256Hex,
    /** argon2id PHC string. */
    passwordHash: Argon2idPhc,
    /** Personal claims (username, name, email), sealed with the user's data key. */
    profile: SealedJson,
  }),
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

/**
 * The password hashed again with the configured argon2id parameters, at a successful login whose
 * stored hash had others: the same password, a new salt and cost. Recorded with that login's
 * `authentication.succeeded`, in one append.
 */
export const UserPasswordRehashedV1 = eventSchema(
  'user.password_rehashed',
  1,
  z.object({ sub: z.string(), passwordHash: Argon2idPhc }),
);

/**
 * The user's stream: registration, failed logins (bounded by the throttle), the successes that
 * change state (a reset failure count, a rehash) and rehashes. Other successes are not here.
 */
export const UserEvent = z.discriminatedUnion('type', [
  UserRegisteredV1,
  AuthenticationSucceededV1,
  AuthenticationFailedV1,
  UserPasswordRehashedV1,
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
