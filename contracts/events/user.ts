import { z } from 'zod';
import { AuthenticationSucceededV1, AuthenticationSucceededV2 } from './authentication.js';
import { eventSchema, IsoTime, Sha256Hex, SealedJson } from './define.js';

/** An argon2id hash in its PHC string form, which carries its own parameters. */
const Argon2idPhc = z.string().startsWith('$argon2id$');

export const UserRegisteredV1 = eventSchema(
  'user.registered',
  1,
  z.object({
    sub: z.string().min(1),
    /** HMAC-SHA-256 (a key derived from the KEK) of `<tenant>:<NFC lower-cased username>`: the lookup key, not the name. */
    usernameDigest: Sha256Hex,
    /** argon2id PHC string. */
    passwordHash: Argon2idPhc,
    /** Personal claims (username, name, email), sealed with the user's data key. */
    profile: SealedJson,
  }),
);

/**
 * Version 2 keeps the password hash sealed, like the profile, under the user's data key (issue 10
 * point 4): `sealedPasswordHash` is the AES-256-GCM ciphertext of the argon2id PHC string
 * (additional data `password:<tenant>:<sub>`, so it cannot stand in for the profile). Destroying
 * the data key makes the hash unreadable and the account unusable: `forget` covers it. V1 events
 * (a plaintext PHC string) still parse and still log in; a V1 user's hash is rehashed and sealed
 * at the next successful login (`user.password_rehashed` v2).
 */
export const UserRegisteredV2 = eventSchema(
  'user.registered',
  2,
  z.object({
    sub: z.string().min(1),
    usernameDigest: Sha256Hex,
    sealedPasswordHash: SealedJson,
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
 * Version 2 records where the attempt came from (a new version, never a wider V1): `source` is
 * the HMAC of the client IP (keyed like the username digest), never the IP itself; null when the
 * gateway gave none. The throttle counts failures per source; V1 events fold as source null.
 */
export const AuthenticationFailedV2 = eventSchema(
  'authentication.failed',
  2,
  z.object({
    sub: z.string(),
    reason: z.enum(['invalid_password']),
    clientId: z.string().nullable(),
    at: IsoTime,
    source: Sha256Hex.nullable(),
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
 * Version 2: the new hash sealed under the user's data key (see UserRegisteredV2). Written for
 * every rehash from now on, and at the first successful login of a user whose hash is still a
 * plaintext V1 one (then the password is hashed again with a new salt, so the live hash is not
 * the one the old event shows).
 */
export const UserPasswordRehashedV2 = eventSchema(
  'user.password_rehashed',
  2,
  z.object({ sub: z.string(), sealedPasswordHash: SealedJson }),
);

/**
 * An administrator disabled the user: a revocation watermark (DESIGN §3). Every token of the user
 * issued at or before `disabledAt` is refused from then on, and while the user stays disabled no
 * login succeeds, no session resolves and no new grant is made. `reason` is the administrator's
 * free text (never published on the live stream).
 */
export const UserDisabledV1 = eventSchema(
  'user.disabled',
  1,
  z.object({ sub: z.string().min(1), disabledAt: IsoTime, reason: z.string().max(500).optional() }),
);

/** The user may log in again; tokens issued before `enabledAt` stay refused (the watermark moves up to it). */
export const UserEnabledV1 = eventSchema('user.enabled', 1, z.object({ sub: z.string().min(1), enabledAt: IsoTime }));

/**
 * An administrator set a new password: its argon2id hash sealed under the user's data key like
 * `user.registered` v2's. The login throttle's failure counts start again from zero.
 */
export const UserPasswordSetV1 = eventSchema(
  'user.password_set',
  1,
  z.object({ sub: z.string().min(1), sealedPasswordHash: SealedJson, setAt: IsoTime }),
);

/**
 * The user was forgotten (DESIGN §4, crypto-shredding): their data key is destroyed, so the sealed
 * profile and password hash in the log can never be opened again. Also a watermark, for good:
 * every token of the user is refused, no login, no enabling.
 */
export const UserForgottenV1 = eventSchema('user.forgotten', 1, z.object({ sub: z.string().min(1), forgottenAt: IsoTime }));

/**
 * The user's stream: registration, failed logins (bounded by the throttle), the successes that
 * change state (a reset failure count, a rehash) and rehashes, and what administrators decide
 * (disable, enable, a new password, forget). Other successes are not here.
 */
export const UserEvent = z.discriminatedUnion('type', [
  z.discriminatedUnion('schemaVersion', [UserRegisteredV1, UserRegisteredV2]),
  z.discriminatedUnion('schemaVersion', [AuthenticationSucceededV1, AuthenticationSucceededV2]),
  z.discriminatedUnion('schemaVersion', [AuthenticationFailedV1, AuthenticationFailedV2]),
  z.discriminatedUnion('schemaVersion', [UserPasswordRehashedV1, UserPasswordRehashedV2]),
  UserDisabledV1,
  UserEnabledV1,
  UserPasswordSetV1,
  UserForgottenV1,
]);
export type UserEvent = z.infer<typeof UserEvent>;

/**
 * What `profile` decrypts to: the user's standard claims (OIDC Core §5.1). Read leniently (every
 * claim but `preferred_username` optional, shapes not re-validated), so that profiles sealed
 * before a claim existed, or under looser rules, still open; registration validates strictly
 * (contracts/profile-claims.ts). The sealed JSON is not part of the event's schema, so new
 * optional claims need no new event version: an older reader strips what it does not know.
 */
const optionalText = z.string().optional();
export const UserProfile = z.object({
  preferred_username: z.string(),
  name: optionalText,
  given_name: optionalText,
  family_name: optionalText,
  middle_name: optionalText,
  nickname: optionalText,
  profile: optionalText,
  picture: optionalText,
  website: optionalText,
  email: optionalText,
  email_verified: z.boolean().optional(),
  gender: optionalText,
  birthdate: optionalText,
  zoneinfo: optionalText,
  locale: optionalText,
  phone_number: optionalText,
  phone_number_verified: z.boolean().optional(),
  address: z
    .object({
      formatted: optionalText,
      street_address: optionalText,
      locality: optionalText,
      region: optionalText,
      postal_code: optionalText,
      country: optionalText,
    })
    .optional(),
  /** Seconds since the epoch: when these claims were set (the registration). */
  updated_at: z.number().int().optional(),
  /** OIDC Core §5.2 variants of name, given_name, family_name, nickname, keyed `name#de`. */
  languageTagged: z.record(z.string(), z.string()).optional(),
});
export type UserProfile = z.infer<typeof UserProfile>;
