import { z } from 'zod';
import { SessionEndReason } from '../events/session.js';
import { message } from './define.js';

export const SessionView = z.object({
  sessionId: z.string(),
  sub: z.string(),
  authTime: z.number().int(),
  acr: z.string(),
  amr: z.array(z.string()),
});
export type SessionView = z.infer<typeof SessionView>;

export const RegisterUser = message(
  'idp.authn.register_user',
  {
    username: z.string().min(1).max(256),
    password: z.string().min(1).max(1024),
    name: z.string().optional(),
    email: z.string().optional(),
  },
  z.object({ sub: z.string(), created: z.boolean() }),
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
);

export const ResolveSession = message(
  'idp.authn.resolve_session',
  { sessionToken: z.string().max(512) },
  z.object({ session: SessionView.nullable() }),
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
);

export const CheckConsent = message(
  'idp.authn.check_consent',
  { sub: z.string(), clientId: z.string(), scopes: z.array(z.string()) },
  z.object({ granted: z.boolean() }),
);

export const GrantConsent = message(
  'idp.authn.grant_consent',
  { sub: z.string(), clientId: z.string(), scopes: z.array(z.string()).min(1) },
  z.object({}),
);

export const UserinfoClaims = message(
  'idp.authn.userinfo_claims',
  { sub: z.string(), scopes: z.array(z.string()) },
  z.object({ claims: z.record(z.string(), z.unknown()).nullable() }),
);
