import { z } from 'zod';
import { ClaimsRequest } from '../claims.js';
import { eventSchema, IsoTime, Sha256Hex } from './define.js';

/**
 * The grant stream holds one authorization of one client by one user and its whole lineage:
 * the code, the tokens, the revocation (DESIGN §3). Event prefixes name what the event is about
 * (`authorization_code.*`, `tokens.*`, `grant.*`); the stream and folder are `grant`.
 */
export const AuthorizationCodeIssuedV1 = eventSchema(
  'authorization_code.issued',
  1,
  z.object({
    grantId: z.string().uuid(),
    clientId: z.string(),
    sub: z.string(),
    sessionId: z.string().uuid(),
    redirectUri: z.string(),
    scope: z.string(),
    nonce: z.string().optional(),
    codeChallenge: z.string().optional(),
    codeChallengeMethod: z.literal('S256').optional(),
    /** SHA-256 of the secret half of the code `<grant id>.<secret>`. */
    codeHash: Sha256Hex,
    expiresAt: IsoTime,
    authTime: z.number().int(),
    acr: z.string(),
    amr: z.array(z.string()),
  }),
);

/**
 * An access token handed out at the authorization endpoint itself (OIDC Core §3.2.2.5, §3.3.2.5):
 * the implicit and hybrid flows' front-channel token, of which only the jti's secret hash is kept.
 */
export const FrontChannelAccessToken = z.object({ accessTokenIdHash: Sha256Hex, accessTokenExpiresAt: IsoTime });

/**
 * Version 2 records how the code was asked for (a new version, not a wider V1): the response
 * type, what the authorization endpoint handed out with the code (the hybrid flow, OIDC Core
 * §3.3: an ID token, an access token), and the `claims` request (OIDC Core §5.5) the tokens of
 * the redemption and userinfo must honour.
 */
export const AuthorizationCodeIssuedV2 = eventSchema(
  'authorization_code.issued',
  2,
  AuthorizationCodeIssuedV1.shape.data.extend({
    responseType: z.enum(['code', 'code id_token', 'code token', 'code id_token token']),
    frontChannel: z.object({ idTokenIssued: z.boolean(), accessToken: FrontChannelAccessToken.nullable() }),
    claims: ClaimsRequest.optional(),
    /** OIDC Core §5.2: the languages the claims were asked in. */
    claimsLocales: z.array(z.string()).optional(),
  }),
);

/**
 * The implicit flow (OIDC Core §3.2): the authorization endpoint answered with an ID token, and
 * an access token for `id_token token`. The whole grant in one event; no code, no refresh token.
 */
export const ImplicitGrantedV1 = eventSchema(
  'implicit.granted',
  1,
  z.object({
    grantId: z.string().uuid(),
    clientId: z.string(),
    sub: z.string(),
    sessionId: z.string().uuid(),
    redirectUri: z.string(),
    responseType: z.enum(['id_token', 'id_token token']),
    scope: z.string(),
    authTime: z.number().int(),
    acr: z.string(),
    amr: z.array(z.string()),
    accessToken: FrontChannelAccessToken.nullable(),
    claims: ClaimsRequest.optional(),
    /** OIDC Core §5.2: the languages the claims were asked in. */
    claimsLocales: z.array(z.string()).optional(),
  }),
);

export const AuthorizationCodeRedeemedV1 = eventSchema(
  'authorization_code.redeemed',
  1,
  z.object({ grantId: z.string().uuid(), clientId: z.string() }),
);

export const AuthorizationCodeReplayDetectedV1 = eventSchema(
  'authorization_code.replay_detected',
  1,
  z.object({ grantId: z.string().uuid(), clientId: z.string() }),
);

export const TokensIssuedV1 = eventSchema(
  'tokens.issued',
  1,
  z.object({
    grantId: z.string().uuid(),
    clientId: z.string(),
    sub: z.string(),
    scope: z.string(),
    /** SHA-256 of the secret half of the access token's `jti` (`<grant id>.<secret>`). */
    accessTokenIdHash: Sha256Hex,
    accessTokenExpiresAt: IsoTime,
    idTokenIssued: z.boolean(),
  }),
);

export const GrantRevokedV1 = eventSchema(
  'grant.revoked',
  1,
  z.object({ grantId: z.string().uuid(), reason: z.enum(['authorization_code_replay']) }),
);

/**
 * Version 2 widens why a grant was revoked (a new version, never a wider V1): a replayed code, a
 * reused refresh token, a revocation request of the client (RFC 7009), or an administrator.
 */
export const GrantRevokedV2 = eventSchema(
  'grant.revoked',
  2,
  z.object({
    grantId: z.string().uuid(),
    reason: z.enum(['authorization_code_replay', 'refresh_token_reuse', 'revocation_request', 'admin']),
  }),
);

/**
 * The first refresh token of a grant (generation 0): `<grant id>.0.<secret>`, of which only the
 * SHA-256 of the secret is kept. Each rotation's successor is recorded on its own short stream
 * (contracts/events/refresh-token.ts), so a refresh never reads the whole lineage.
 */
export const RefreshTokenIssue = z.object({
  tokenHash: Sha256Hex,
  /** When the lineage began: a client's revocation watermark after it ends the lineage. */
  issuedAt: IsoTime,
  /** Unused this long, the token expires (idle lifetime). */
  idleExpiresAt: IsoTime,
  /** The lineage ends here whatever its use (absolute lifetime). */
  absoluteExpiresAt: IsoTime,
});

/** Version 2 records the refresh token the tokens came with, if any (a new version, not a wider V1). */
export const TokensIssuedV2 = eventSchema(
  'tokens.issued',
  2,
  TokensIssuedV1.shape.data.extend({ refreshToken: RefreshTokenIssue.nullable() }),
);

/**
 * RFC 6749 §4.4: an access token for the client itself, no user. The whole grant in one event
 * (DESIGN §4 event budget); `audience` is what the client asked for with `resource` (RFC 8707),
 * else the issuer.
 */
export const ClientCredentialsGrantedV1 = eventSchema(
  'client_credentials.granted',
  1,
  z.object({
    grantId: z.string().uuid(),
    clientId: z.string(),
    scope: z.string(),
    audience: z.array(z.string()).min(1),
    accessTokenIdHash: Sha256Hex,
    accessTokenExpiresAt: IsoTime,
  }),
);

/**
 * RFC 6749 §4.3: the resource owner's password, checked by authn (which records the attempt on
 * the user's stream), exchanged for tokens: the grant in one event.
 */
export const PasswordGrantedV1 = eventSchema(
  'password.granted',
  1,
  z.object({
    grantId: z.string().uuid(),
    clientId: z.string(),
    sub: z.string(),
    scope: z.string(),
    audience: z.array(z.string()).min(1),
    authTime: z.number().int(),
    acr: z.string(),
    amr: z.array(z.string()),
    accessTokenIdHash: Sha256Hex,
    accessTokenExpiresAt: IsoTime,
    idTokenIssued: z.boolean(),
    refreshToken: RefreshTokenIssue.nullable(),
  }),
);

/**
 * A refresh token presented again after its rotation, outside any grace window (RFC 9700 §4.14.2):
 * recorded with the revocation of the grant, in the same append.
 */
export const RefreshTokenReuseDetectedV1 = eventSchema(
  'refresh_token.reuse_detected',
  1,
  z.object({ grantId: z.string().uuid(), generation: z.number().int().min(0), clientId: z.string() }),
);

export const GrantEvent = z.discriminatedUnion('type', [
  z.discriminatedUnion('schemaVersion', [AuthorizationCodeIssuedV1, AuthorizationCodeIssuedV2]),
  ImplicitGrantedV1,
  AuthorizationCodeRedeemedV1,
  AuthorizationCodeReplayDetectedV1,
  // One type at several versions: the versions are told apart by schemaVersion.
  z.discriminatedUnion('schemaVersion', [TokensIssuedV1, TokensIssuedV2]),
  ClientCredentialsGrantedV1,
  PasswordGrantedV1,
  RefreshTokenReuseDetectedV1,
  z.discriminatedUnion('schemaVersion', [GrantRevokedV1, GrantRevokedV2]),
]);
export type GrantEvent = z.infer<typeof GrantEvent>;
