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
