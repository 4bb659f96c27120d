import { z } from 'zod';
import { AuthenticationSucceededV1, AuthenticationSucceededV2 } from '../../../contracts/events/authentication.js';
import { ConsentEvent } from '../../../contracts/events/consent.js';
import { SessionEvent } from '../../../contracts/events/session.js';
import { UserEvent } from '../../../contracts/events/user.js';
import { combine, projection } from '../../shared/projections/project.js';
import { userWatermarks } from '../../shared/projections/user-watermark.js';

export const keys = {
  userByUsername: (tenant: string, usernameDigest: string) => `user-by-username:${tenant}:${usernameDigest}`,
  user: (tenant: string, sub: string) => `user:${tenant}:${sub}`,
  session: (tenant: string, sessionId: string) => `session:${tenant}:${sessionId}`,
  consent: (tenant: string, sub: string, clientId: string) => `consent:${tenant}:${sub}:${clientId}`,
  /** When the user last logged in with their password (ISO): `idp user show|list`. */
  lastLogin: (tenant: string, sub: string) => `user-last-login:${tenant}:${sub}`,
};

/** Logins read the password hash from the user's stream: no copy of it in the projections. */
export interface UserRecord {
  sub: string;
  profile: { alg: 'A256GCM'; iv: string; ct: string; tag: string };
}

export interface SessionRecord {
  sessionId: string;
  sub: string;
  secretHash: string;
  authTime: number;
  acr: string;
  amr: string[];
  expiresAt: string;
}

const users = projection(UserEvent, ['user.registered'], (event, meta) => {
  if (event.type !== 'user.registered') return [];
  const { sub, usernameDigest, profile } = event.data;
  const record: UserRecord = { sub, profile };
  return [
    { kind: 'put', key: keys.userByUsername(meta.tenant, usernameDigest), value: sub },
    { kind: 'put', key: keys.user(meta.tenant, sub), value: record },
  ];
});

const sessions = projection(SessionEvent, ['session.started', 'session.ended'], (event, meta) => {
  // A session that ended stops resolving at once (the writer applies this through).
  if (event.type === 'session.ended') return [{ kind: 'delete', key: keys.session(meta.tenant, event.data.sessionId) }];
  const record: SessionRecord = event.data;
  return [
    {
      kind: 'put',
      key: keys.session(meta.tenant, event.data.sessionId),
      value: record,
      expiresAt: Date.parse(event.data.expiresAt),
    },
  ];
});

/** Consent events carry the full scope set granted so far, so the newest one is the state. */
const consents = projection(ConsentEvent, ['consent.granted'], (event, meta) => [
  { kind: 'put', key: keys.consent(meta.tenant, event.data.sub, event.data.clientId), value: event.data.scopes },
]);

/** A success is on the user's stream (v2) or on its own authentication stream (v1): both count. */
const AuthenticationSucceeded = z.discriminatedUnion('schemaVersion', [AuthenticationSucceededV1, AuthenticationSucceededV2]);
const lastLogins = projection(AuthenticationSucceeded, ['authentication.succeeded'], (event, meta) => [
  { kind: 'put', key: keys.lastLogin(meta.tenant, event.data.sub), value: meta.time },
]);

/**
 * Users, sessions, consents, last logins, and the user watermarks: written through at once, so a
 * disabled user's sessions stop resolving at the next request, and read by the token-issuer
 * (README, "Security": its one read outside its own namespace besides the client watermarks).
 */
export const authnProjections = combine(users, sessions, consents, lastLogins, userWatermarks);

/** The checkpoint of these projections, shared by the projector and the write-through. */
export const AUTHN_CHECKPOINT = 'authn';
