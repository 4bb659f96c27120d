/**
 * The traffic the replay benchmark's log stands for (bench/RESULTS.md): what a busy
 * authorization server sees, by flow, per 1,000 flows. Access tokens are short (1 h), so clients
 * refresh far more often than people log in; machine clients take client-credentials tokens all
 * day; registrations, logouts and revocations are rare.
 *
 * Events per flow (the same types, versions and shapes the services write):
 * - registration: username.claimed, user.registered (2);
 * - login: authentication.succeeded, session.started (2); consent.granted comes the first time a
 *   user meets a client, at a code (most codes here: thousands of users and 150 relying parties
 *   rarely meet twice);
 * - code: authorization_code.issued, authorization_code.redeemed, tokens.issued (3), under a
 *   live session (a login just before, or single sign-on);
 * - failed login: authentication.failed (1);
 * - refresh: refresh_token.rotated (1), on its own short stream;
 * - client credentials: client_credentials.granted (1);
 * - revocation: grant.revoked (1), a client's RFC 7009 request or a detected reuse;
 * - logout: session.ended (1).
 */
export const FLOWS_PER_1000 = {
  registration: 6,
  login: 70,
  code: 110,
  failedLogin: 14,
  refresh: 480,
  clientCredentials: 270,
  revocation: 20,
  logout: 30,
} as const;
export type FlowKind = keyof typeof FLOWS_PER_1000;

/** Clients registered before the traffic starts: relying parties (code + refresh) and machine clients. */
export const RELYING_PARTIES = 150;
export const MACHINE_CLIENTS = 50;
/** Users registered before the traffic starts (registrations then add more). */
export const INITIAL_USERS = 5_000;
/** The log spans this much time, ending now: sessions (8 h) and tokens expire along the way. */
export const SPAN_MS = 30 * 24 * 3600_000;
