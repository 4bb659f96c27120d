import type { DomainEvent } from './index.js';

/**
 * What the live stream `IDP_EVENTS` may carry of each event's `data`: an allow-list per event type
 * and schema version, deciding every field. `true` publishes the field, `false` withholds it, and
 * a nested object is decided field by field the same way. A new event type or version, or a field
 * left undecided, does not compile (and test/unit/published-events.test.ts lists what is missing).
 *
 * Withheld, always: hashes of secrets (password hashes, client secret and registration access
 * token hashes, code, session secret, access token id and refresh token hashes), key material
 * (both JWKs of a signing key: the public one is served at the JWKS endpoint), sealed blobs (the
 * profile, the sealed password hash), the username digest (a guessable digest of the name), the source digest of a login attempt (a
 * guessable digest of its IP), and what ties a flow to the
 * browser or asks for personal claim values (nonce, PKCE challenge, the `claims` request).
 * Published: ids, types, client ids, subs, scopes, times, reasons, statuses, redirect and logout
 * URIs: what an audit consumer needs.
 */
export type Decision<V> = boolean | NestedDecision<NonNullable<V>>;
type NestedDecision<V> = V extends readonly unknown[]
  ? never
  : V extends Record<string, unknown>
    ? string extends keyof V
      ? never // a record of arbitrary keys (e.g. a JWK) is published whole or not at all
      : FieldDecisions<V>
    : never;
export type FieldDecisions<D> = { readonly [K in keyof D]-?: Decision<D[K]> };

/** `<type>@<schemaVersion>`, e.g. `client.registered@3`. */
export type EventVersionKey = `${DomainEvent['type']}@${DomainEvent['schemaVersion']}`;
export function eventVersionKey(type: string, schemaVersion: number): string {
  return `${type}@${schemaVersion}`;
}

export type PublishedDataAllowList = {
  readonly [E in DomainEvent as `${E['type']}@${E['schemaVersion']}`]: FieldDecisions<E['data']>;
};

const clientMetadata = {
  clientId: true,
  clientName: true,
  applicationType: true,
  redirectUris: true,
  grantTypes: true,
  responseTypes: true,
  tokenEndpointAuthMethod: true,
  scope: true,
  idTokenSignedResponseAlg: true,
} as const;
const logoutMetadata = { postLogoutRedirectUris: true, backchannelLogoutUri: true, backchannelLogoutSessionRequired: true } as const;
const frontChannelAccessToken = { accessTokenIdHash: false, accessTokenExpiresAt: true } as const;
const refreshTokenIssue = { tokenHash: false, issuedAt: true, idleExpiresAt: true, absoluteExpiresAt: true } as const;
const codeIssued = {
  grantId: true,
  clientId: true,
  sub: true,
  sessionId: true,
  redirectUri: true,
  scope: true,
  nonce: false,
  codeChallenge: false,
  codeChallengeMethod: true,
  codeHash: false,
  expiresAt: true,
  authTime: true,
  acr: true,
  amr: true,
} as const;
const delivery = { sessionId: true, clientId: true } as const;

export const PUBLISHED_DATA: PublishedDataAllowList = {
  'client.registered@1': { ...clientMetadata, secretHash: false },
  'client.registered@2': {
    ...clientMetadata,
    secretHash: false,
    refreshTokenReuseGraceSeconds: true,
    authorizedBy: true,
    registrationAccessTokenHash: false,
  },
  'client.registered@3': {
    ...clientMetadata,
    ...logoutMetadata,
    secretHash: false,
    refreshTokenReuseGraceSeconds: true,
    authorizedBy: true,
    registrationAccessTokenHash: false,
  },
  'client.metadata_updated@1': { ...clientMetadata, refreshTokenReuseGraceSeconds: true },
  'client.metadata_updated@2': { ...clientMetadata, ...logoutMetadata, refreshTokenReuseGraceSeconds: true },
  'client.secret_rotated@1': { clientId: true, secretHash: false },
  'client.tokens_revoked@1': { clientId: true, revokedAt: true },
  'client.deleted@1': { clientId: true, deletedAt: true },
  'user.registered@1': { sub: true, usernameDigest: false, passwordHash: false, profile: false },
  'user.registered@2': { sub: true, usernameDigest: false, sealedPasswordHash: false, profile: false },
  'authentication.succeeded@1': { sub: true, method: true, clientId: true },
  'authentication.succeeded@2': { sub: true, method: true, clientId: true, source: false },
  'authentication.failed@1': { sub: true, reason: true, clientId: true, at: true },
  'authentication.failed@2': { sub: true, reason: true, clientId: true, at: true, source: false },
  'user.password_rehashed@1': { sub: true, passwordHash: false },
  'user.password_rehashed@2': { sub: true, sealedPasswordHash: false },
  'user.disabled@1': { sub: true, disabledAt: true, reason: false },
  'user.enabled@1': { sub: true, enabledAt: true },
  'user.password_set@1': { sub: true, sealedPasswordHash: false, setAt: true },
  'user.forgotten@1': { sub: true, forgottenAt: true },
  'username.claimed@1': { usernameDigest: false, sub: true },
  'session.started@1': {
    sessionId: true,
    sub: true,
    secretHash: false,
    authTime: true,
    acr: true,
    amr: true,
    expiresAt: true,
  },
  'session.ended@1': { sessionId: true, sub: true, reason: true, clientId: true },
  'consent.granted@1': { sub: true, clientId: true, scopes: true },
  'authorization_code.issued@1': codeIssued,
  'authorization_code.issued@2': {
    ...codeIssued,
    responseType: true,
    frontChannel: { idTokenIssued: true, accessToken: frontChannelAccessToken },
    claims: false,
    claimsLocales: true,
  },
  'implicit.granted@1': {
    grantId: true,
    clientId: true,
    sub: true,
    sessionId: true,
    redirectUri: true,
    responseType: true,
    scope: true,
    authTime: true,
    acr: true,
    amr: true,
    accessToken: frontChannelAccessToken,
    claims: false,
    claimsLocales: true,
  },
  'authorization_code.redeemed@1': { grantId: true, clientId: true },
  'authorization_code.replay_detected@1': { grantId: true, clientId: true },
  'tokens.issued@1': {
    grantId: true,
    clientId: true,
    sub: true,
    scope: true,
    accessTokenIdHash: false,
    accessTokenExpiresAt: true,
    idTokenIssued: true,
  },
  'tokens.issued@2': {
    grantId: true,
    clientId: true,
    sub: true,
    scope: true,
    accessTokenIdHash: false,
    accessTokenExpiresAt: true,
    idTokenIssued: true,
    refreshToken: refreshTokenIssue,
  },
  'client_credentials.granted@1': {
    grantId: true,
    clientId: true,
    scope: true,
    audience: true,
    accessTokenIdHash: false,
    accessTokenExpiresAt: true,
  },
  'password.granted@1': {
    grantId: true,
    clientId: true,
    sub: true,
    scope: true,
    audience: true,
    authTime: true,
    acr: true,
    amr: true,
    accessTokenIdHash: false,
    accessTokenExpiresAt: true,
    idTokenIssued: true,
    refreshToken: refreshTokenIssue,
  },
  'refresh_token.reuse_detected@1': { grantId: true, generation: true, clientId: true },
  'grant.revoked@1': { grantId: true, reason: true },
  'grant.revoked@2': { grantId: true, reason: true },
  'refresh_token.rotated@1': {
    grantId: true,
    generation: true,
    clientId: true,
    rotatedAt: true,
    scope: true,
    accessTokenIdHash: false,
    accessTokenExpiresAt: true,
    idTokenIssued: true,
    successor: { generation: true, tokenHash: false, idleExpiresAt: true },
  },
  'refresh_token.rotation_repeated@1': {
    grantId: true,
    generation: true,
    clientId: true,
    scope: true,
    accessTokenIdHash: false,
    accessTokenExpiresAt: true,
    idTokenIssued: true,
  },
  'signing_key.generated@1': { kid: true, alg: true, publicJwk: false, privateJwk: false },
  'signing_key.generated@2': { kid: true, alg: true, publicJwk: false, privateJwk: false, activatesAt: true },
  'signing_key.revoked@1': { kid: true, revokedAt: true, reason: true },
  'backchannel_logout.attempt_started@1': { ...delivery, attempt: true, uri: true, claimExpiresAt: true },
  'backchannel_logout.delivered@1': { ...delivery, attempt: true, status: true },
  'backchannel_logout.failed@1': { ...delivery, attempt: true, status: true, error: true, nextAttemptAt: true },
  'backchannel_logout.abandoned@1': { ...delivery, attempts: true, reason: true },
  // A seal holds no secret, but its running hashes are checked against the log, not the live
  // stream (which redacts what the hashes cover): withheld like every hash, by rule.
  'log.checkpoint_sealed@1': {
    upToPosition: true,
    runningHash: false,
    eventCount: true,
    previousSeal: { upToPosition: true, runningHash: false },
    sealedAt: true,
    keyId: true,
    publicKey: true,
    signature: true,
  },
  // Digests of what was kept and archived are checked against the log, like the running hashes.
  'log.archived@1': {
    sealPosition: true,
    upToPosition: true,
    endedBefore: true,
    archived: { events: true, digest: false, streams: true },
    kept: { events: true, digest: false },
    fileSha256: true,
  },
};

/** What the live stream carries of one event: `data` (projected), or nothing (`undefined`). */
export interface PublishedData {
  /** Absent: the type or version has no allow-list, so nothing of its data is published. */
  data?: Record<string, unknown>;
  /** Whether anything of the event's data was left out (then its hash cannot be recomputed). */
  redacted: boolean;
}

/**
 * The allow-listed projection of an event's data. Fails closed: an unknown type or version gets
 * no data at all, fields the allow-list does not name are dropped, and a value expected to be an
 * object that is not one is dropped too.
 */
export function publishedData(event: { type: string; schemaVersion: number; data: unknown }): PublishedData {
  const key = eventVersionKey(event.type, event.schemaVersion);
  const decisions = Object.hasOwn(PUBLISHED_DATA, key) ? (PUBLISHED_DATA as unknown as Record<string, Decisions>)[key] : undefined;
  if (!decisions || !isPlainObject(event.data)) return { redacted: true };
  const state = { redacted: false };
  return { data: project(event.data, decisions, state), redacted: state.redacted };
}

type Decisions = { readonly [field: string]: boolean | Decisions };

function project(data: Record<string, unknown>, decisions: Decisions, state: { redacted: boolean }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(data)) {
    const decision = Object.hasOwn(decisions, field) ? decisions[field] : false;
    if (decision === true) out[field] = value;
    else if (decision && value === null) out[field] = null;
    else if (decision && isPlainObject(value)) out[field] = project(value, decision, state);
    else state.redacted = true;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
