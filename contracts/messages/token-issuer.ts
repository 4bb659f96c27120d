import { z } from 'zod';
import { PresentedClientAuthentication } from './client-registry.js';
import { message } from './define.js';
import { OAuthErrorBody } from '../oauth-error.js';
import { RESPONSE_TYPES } from '../response-types.js';
import { ClaimsRequest, ClaimsRequestMember } from '../claims.js';
import { GRANT_TYPES, GrantRequest, type GrantType } from '../grants/index.js';
import { SigningAlg } from '../events/keyring.js';

/**
 * The authorization endpoint's answer for an authenticated, consenting user (RFC 6749 §4.1.2,
 * OIDC Core §3.1.2.5, §3.2.2.5, §3.3.2.5): a code, an ID token, an access token, as the response
 * type asks. `grantId` is the pending request's id, so one request completes at most once.
 *
 * The token-issuer verifies what it can itself: the user is whoever authn says holds
 * `sessionToken` (the browser's session cookie), and the client, redirect URI, response type,
 * scope and PKCE must fit the client's registration as client-registry has it. The rest (nonce,
 * code challenge, claims, locales) is the user's request as the gateway relays it.
 */
export const IssueAuthorization = message(
  'idp.token-issuer.issue_authorization',
  {
    grantId: z.string().uuid(),
    clientId: z.string().max(256),
    /** The session cookie's value `<session id>.<secret>` (authn resolves it; only its hash is logged). */
    sessionToken: z.string().max(512),
    redirectUri: z.string(),
    responseType: z.enum(RESPONSE_TYPES),
    scope: z.string(),
    nonce: z.string().optional(),
    codeChallenge: z.string().optional(),
    codeChallengeMethod: z.literal('S256').optional(),
    /** OIDC Core §5.5: the parsed `claims` request parameter. */
    claims: ClaimsRequest.optional(),
    /** OIDC Core §5.2: `claims_locales`, the languages to release claims in. */
    claimsLocales: z.array(z.string().max(35)).max(10).optional(),
  },
  /** The authorization response's parameters, less `state` and `iss` (the gateway adds them). */
  z.object({
    code: z.string().optional(),
    access_token: z.string().optional(),
    token_type: z.literal('Bearer').optional(),
    expires_in: z.number().int().optional(),
    scope: z.string().optional(),
    id_token: z.string().optional(),
  }),
  { callers: ['gateway'] },
);

export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  /** Absent when empty (a client credentials grant of a client with no API scope). */
  scope: z.string().optional(),
  refresh_token: z.string().optional(),
  id_token: z.string().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

/**
 * What the gateway could not read from a token request's form (a missing or unsupported
 * `grant_type`, a grant's own parameter errors): answered by the token-issuer only after the
 * client authenticated, so that an unauthenticated client hears `invalid_client` first (RFC 6749
 * §5.2), and after `unauthorized_client` when the grant type is known.
 */
export const UnreadableGrant = z.object({
  grantType: z.enum(GRANT_TYPES as unknown as [GrantType, ...GrantType[]]).optional(),
  error: OAuthErrorBody,
});

/**
 * A token request at the token endpoint (RFC 6749 §3.2): the client's authentication as
 * presented (the token-issuer has client-registry check it), and the grant, dispatched on
 * `grant.grantType` (contracts/grants/), or why the form could not be read (`unreadable`).
 */
export const GrantTokens = message(
  'idp.token-issuer.grant_tokens',
  {
    client: PresentedClientAuthentication,
    grant: GrantRequest.optional(),
    unreadable: UnreadableGrant.optional(),
    /** The token request's client IP as the gateway sees it: the password grant's login source. */
    source: z.string().max(64).nullable().optional(),
  },
  TokenResponse,
  { callers: ['gateway'] },
);

export const ValidateAccessToken = message(
  'idp.token-issuer.validate_access_token',
  { token: z.string().max(8192) },
  z.discriminatedUnion('active', [
    z.object({ active: z.literal(false) }),
    z.object({
      active: z.literal(true),
      sub: z.string(),
      clientId: z.string(),
      scope: z.string(),
      grantId: z.string(),
      /** OIDC Core §5.5, §5.2: the grant's `claims.userinfo` request and `claims_locales`. */
      userinfoClaims: ClaimsRequestMember.optional(),
      claimsLocales: z.array(z.string()).optional(),
    }),
  ]),
  { callers: ['gateway'] },
);

/** RFC 7662 §2.2: what an introspection tells about an active token; `{ active: false }` otherwise. */
export const IntrospectionResponse = z.discriminatedUnion('active', [
  z.object({ active: z.literal(false) }),
  z.object({
    active: z.literal(true),
    scope: z.string(),
    client_id: z.string(),
    sub: z.string(),
    aud: z.union([z.string(), z.array(z.string())]),
    iss: z.string(),
    exp: z.number().int(),
    iat: z.number().int(),
    /** `Bearer` for an access token (RFC 6749 §7.1); `refresh_token` for a refresh token, which is none. */
    token_type: z.enum(['Bearer', 'refresh_token']),
    jti: z.string(),
  }),
]);
export type IntrospectionResponse = z.infer<typeof IntrospectionResponse>;

/**
 * A token as a client presents it for introspection or revocation: whatever the gateway's body
 * limit lets through. One that cannot be ours is inactive (RFC 7662 §2.2) or revoked without
 * effect (RFC 7009 §2.2), never a malformed request.
 */
const PresentedToken = z.string().max(64 * 1024);

/**
 * Token introspection (RFC 7662) for the client that `caller` authenticates (checked by the
 * token-issuer; `none` is refused, §2.1): a client learns about its own tokens and about tokens
 * whose audience it is, nothing else. A missing `token` is `invalid_request`, after the client.
 */
export const IntrospectToken = message(
  'idp.token-issuer.introspect_token',
  {
    caller: PresentedClientAuthentication,
    token: PresentedToken.optional(),
    tokenTypeHint: z.string().max(64).optional(),
    /** `jwt`: also the answer as a signed JWT (RFC 9701). */
    format: z.enum(['json', 'jwt']).default('json'),
  },
  z.object({ response: IntrospectionResponse, jwt: z.string().optional() }),
  { callers: ['gateway'] },
);

/**
 * Token revocation (RFC 7009) for the client that `caller` authenticates (checked by the
 * token-issuer). Always an empty success: an invalid or unknown token, or another client's, is
 * no error (§2.2). A missing `token` is `invalid_request`, after the client.
 */
export const RevokeToken = message(
  'idp.token-issuer.revoke_token',
  {
    caller: PresentedClientAuthentication,
    token: PresentedToken.optional(),
    tokenTypeHint: z.string().max(64).optional(),
  },
  z.object({}),
  { callers: ['gateway'] },
);

/**
 * How long a relying party may cache `GET /jwks` (its `Cache-Control: max-age`). A next signing
 * key is published at least this long (plus a margin) before it signs: IDP_KEY_ACTIVATION_DELAY_SECONDS.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

export const GetJwks = message(
  'idp.token-issuer.get_jwks',
  {},
  z.object({ keys: z.array(z.record(z.string(), z.unknown())) }),
  { callers: ['gateway'] },
);

/**
 * RP-Initiated Logout 1.0 §2: is this an ID token we issued (signature checked against our
 * keys; its expiry is not enforced)? If so, to which client (`azp`, else its audience), for
 * which subject and session (`sid`, absent for ID tokens without a browser session).
 */
export const VerifyIdTokenHint = message(
  'idp.token-issuer.verify_id_token_hint',
  { idTokenHint: z.string().max(16 * 1024) },
  z.discriminatedUnion('valid', [
    z.object({ valid: z.literal(false) }),
    z.object({ valid: z.literal(true), sub: z.string(), clientId: z.string(), sid: z.string().nullable() }),
  ]),
  { callers: ['gateway'] },
);

/**
 * One signing key as `idp keys list` shows it (DESIGN §7): `next` (in JWKS, not signing yet),
 * `active` (signs), `retired` (in JWKS until `removesAt`, when every token it signed has
 * expired), `removed`, or `revoked` (compromised: out of JWKS, its tokens refused).
 */
export const SigningKeyView = z.object({
  kid: z.string(),
  alg: SigningAlg,
  state: z.enum(['next', 'active', 'retired', 'removed', 'revoked']),
  createdAt: z.string(),
  activatesAt: z.string(),
  retiredAt: z.string().nullable(),
  removesAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type SigningKeyView = z.infer<typeof SigningKeyView>;

/** The tenant's signing keys, oldest first. Administrators only (`idp keys list`). */
export const ListSigningKeys = message('idp.token-issuer.list_signing_keys', {}, z.object({ keys: z.array(SigningKeyView) }), {
  callers: ['admin'],
});

/**
 * Publishes a next key for `alg` (both algorithms when absent) that signs from now +
 * IDP_KEY_ACTIVATION_DELAY_SECONDS; refused (`invalid_request`) while a next key of that
 * algorithm is still pending. Administrators only (`idp keys rotate`).
 */
export const RotateSigningKeys = message(
  'idp.token-issuer.rotate_signing_keys',
  { alg: SigningAlg.optional() },
  z.object({ generated: z.array(SigningKeyView), keys: z.array(SigningKeyView) }),
  { callers: ['admin'] },
);

/**
 * A compromised key (`idp keys rotate --compromised KID`): out of JWKS at once and every token it
 * signed refused; if it was active, a new key of its algorithm signs at once. `found: false`: no
 * key has that kid. Refused (`invalid_request`) if it is revoked already.
 */
export const RevokeSigningKey = message(
  'idp.token-issuer.revoke_signing_key',
  { kid: z.string().min(1).max(256), reason: z.literal('compromised') },
  z.discriminatedUnion('found', [
    z.object({ found: z.literal(false) }),
    z.object({ found: z.literal(true), revoked: SigningKeyView, replacement: SigningKeyView.nullable(), keys: z.array(SigningKeyView) }),
  ]),
  { callers: ['admin'] },
);
