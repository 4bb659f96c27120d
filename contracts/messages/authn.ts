import { z } from 'zod';
import { SessionEndReason } from '../events/session.js';
import { ClaimsRequestMember } from '../claims.js';
import { ProfileClaimsInput } from '../profile-claims.js';
import { message } from './define.js';

export const SessionView = z.object({
  sessionId: z.string(),
  sub: z.string(),
  authTime: z.number().int(),
  acr: z.string(),
  amr: z.array(z.string()),
});
export type SessionView = z.infer<typeof SessionView>;

/**
 * Registers a user with their standard claims (OIDC Core §5.1, contracts/profile-claims.ts),
 * sealed with the user's data key. Registering an existing username changes nothing.
 */
export const RegisterUser = message(
  'idp.authn.register_user',
  {
    username: z.string().min(1).max(256),
    password: z.string().min(1).max(1024),
    ...ProfileClaimsInput,
  },
  z.object({ sub: z.string(), created: z.boolean() }),
  { callers: ['admin'] },
);

/** What an authentication established (OIDC Core §2: `auth_time`, `acr`, `amr`), session or not. */
const Authenticated = {
  authenticated: z.literal(true),
  sub: z.string(),
  authTime: z.number().int(),
  acr: z.string(),
  amr: z.array(z.string()).min(1),
};

/**
 * Verifies a username and password and, if they match, records the authentication and starts a
 * session. `startSession: false` (the password grant, RFC 6749 §4.3, has no browser to hold a
 * session cookie) checks and records the same way but starts no session: the reply then carries
 * the authentication's facts and `session: null`.
 */
export const Login = message(
  'idp.authn.login',
  {
    username: z.string().max(256),
    password: z.string().max(1024),
    clientId: z.string().nullable(),
    /** Default true. */
    startSession: z.boolean().optional(),
    /**
     * Where the attempt came from: the client IP as the gateway sees it. The login throttle
     * counts failures per source; authn keeps only an HMAC of it, never the IP.
     */
    source: z.string().max(64).nullable().optional(),
  },
  // Told apart by `authenticated`, then by `session` (an object or null).
  z.union([
    z.object({ authenticated: z.literal(false) }),
    z.object({
      ...Authenticated,
      session: SessionView,
      /** The cookie value `<session id>.<secret>`; only its hash is logged. */
      sessionToken: z.string(),
      expiresAt: z.string(),
    }),
    z.object({ ...Authenticated, session: z.null() }),
  ]),
  { callers: ['gateway', 'token-issuer'] },
);

export const ResolveSession = message(
  'idp.authn.resolve_session',
  { sessionToken: z.string().max(512) },
  z.object({ session: SessionView.nullable() }),
  { callers: ['gateway', 'token-issuer'] },
);

/**
 * Ends the session of this cookie value (`session.ended`): from the answer on, ResolveSession
 * finds nothing. A token that is malformed, unknown, or whose secret does not match ends nothing
 * (`ended: false`); a session that had ended already answers `ended: false` too.
 */
export const EndSession = message(
  'idp.authn.end_session',
  {
    sessionToken: z.string().max(512),
    reason: SessionEndReason,
    /** The relying party that asked, if one was identified. */
    clientId: z.string().max(256).nullable(),
  },
  z.object({ ended: z.boolean(), sessionId: z.string().nullable(), sub: z.string().nullable() }),
  { callers: ['gateway', 'admin'] },
);

export const CheckConsent = message(
  'idp.authn.check_consent',
  { sub: z.string(), clientId: z.string(), scopes: z.array(z.string()) },
  z.object({ granted: z.boolean() }),
  { callers: ['gateway'] },
);

export const GrantConsent = message(
  'idp.authn.grant_consent',
  { sub: z.string(), clientId: z.string(), scopes: z.array(z.string()).min(1) },
  z.object({}),
  { callers: ['gateway'] },
);

/**
 * The claims a user releases (OIDC Core §5.3.2 userinfo, §5.4, §5.5; the ID token's claims too):
 * those of the granted `scopes`, plus those `requested` one by one (a member of the claims
 * parameter), each only if the user has it; `sub` always. `locales` (`claims_locales`, §5.2)
 * picks among language-tagged values. A user whose data key was destroyed (forgotten) releases
 * only `sub`; `claims: null` when there is no such user.
 */
export const UserClaims = message(
  'idp.authn.user_claims',
  {
    sub: z.string().max(256),
    scopes: z.array(z.string().max(128)).max(64),
    requested: ClaimsRequestMember.optional(),
    locales: z.array(z.string().max(35)).max(16).optional(),
  },
  z.object({ claims: z.record(z.string(), z.unknown()).nullable() }),
  { callers: ['gateway', 'token-issuer'] },
);

/**
 * A user id as authn makes them (a UUID; letters, digits, '-' and '_' in general): what names a
 * user's stream, so nothing else is taken where a command appends or reads by `sub`.
 */
export const UserSub = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a user id (sub)');

/**
 * A user as an administrator sees them (`idp user show|list`): never a password hash. `status`:
 * `active`, `disabled` (user.disabled, until user.enabled), `forgotten` (data key destroyed).
 * `username` and `claims` come from the sealed profile: null once the user is forgotten.
 * `lastLoginAt`: the last successful password login; `failedLogins`: consecutive failures since
 * the last success (what the login throttle counts).
 */
export const UserView = z.object({
  sub: z.string(),
  username: z.string().nullable(),
  status: z.enum(['active', 'disabled', 'forgotten']),
  registeredAt: z.string(),
  lastLoginAt: z.string().nullable(),
  failedLogins: z.number().int(),
  disabledAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
  forgottenAt: z.string().nullable(),
  /** Whether the data key still exists: a forgotten user whose key is still there was interrupted (forget again). */
  dataKey: z.enum(['present', 'destroyed']),
});
export type UserView = z.infer<typeof UserView>;

/** One user by `sub`, or else by username; `user: null` when neither names one. With the claims (none once forgotten). */
export const GetUser = message(
  'idp.authn.get_user',
  { subOrUsername: z.string().min(1).max(256) },
  z.object({ user: UserView.extend({ claims: z.record(z.string(), z.unknown()).nullable() }).nullable() }),
  { callers: ['admin'] },
);

/** Every user of the tenant, in registration order (read from the log: an administrator's command, not a hot path). */
export const ListUsers = message('idp.authn.list_users', {}, z.object({ users: z.array(UserView) }), { callers: ['admin'] });

/**
 * The outcome of an administrator's decision about a user: `found: false` when no user has this
 * `sub`; `changed: false` when the user was in that state already (nothing appended).
 */
const UserAdminOutcome = z.union([
  z.object({ found: z.literal(false) }),
  z.object({ found: z.literal(true), changed: z.boolean(), user: UserView }),
]);

/** `user.disabled`: a watermark over every token of the user so far; no login, session or grant while disabled. */
export const DisableUser = message(
  'idp.authn.disable_user',
  { sub: UserSub, reason: z.string().min(1).max(500).optional() },
  UserAdminOutcome,
  { callers: ['admin'] },
);

/** `user.enabled`: logins work again; tokens issued before stay refused. A forgotten user cannot be enabled. */
export const EnableUser = message('idp.authn.enable_user', { sub: UserSub }, UserAdminOutcome, { callers: ['admin'] });

/** `user.password_set`: a new password, hashed and sealed like a registration's. Refused for a forgotten user. */
export const SetUserPassword = message(
  'idp.authn.set_user_password',
  { sub: UserSub, password: z.string().min(1).max(1024) },
  UserAdminOutcome,
  { callers: ['admin'] },
);

/**
 * `user.forgotten`, then the user's data key destroyed (in that order: a retry after a crash in
 * between finds the user forgotten and destroys the key). Forgetting again destroys again.
 */
export const ForgetUser = message('idp.authn.forget_user', { sub: UserSub }, UserAdminOutcome, { callers: ['admin'] });
