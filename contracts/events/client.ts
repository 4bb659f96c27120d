import { z } from 'zod';
import { eventSchema, IsoTime, Sha256Hex } from './define.js';

export const TokenEndpointAuthMethod = z.enum(['client_secret_basic', 'client_secret_post', 'none']);
export type TokenEndpointAuthMethod = z.infer<typeof TokenEndpointAuthMethod>;

/**
 * How a client's ID tokens are signed (OIDC Registration §2 `id_token_signed_response_alg`):
 * RS256 by default (OIDC Core §15.1), ES256 when the client asks (a smaller token, and about
 * twenty times cheaper to sign than RSA-2048, issue 12).
 */
export const ID_TOKEN_SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type IdTokenSigningAlg = (typeof ID_TOKEN_SIGNING_ALGS)[number];

export const ClientRegisteredV1 = eventSchema(
  'client.registered',
  1,
  z.object({
    clientId: z.string().min(1),
    clientName: z.string().optional(),
    applicationType: z.enum(['web', 'native']),
    redirectUris: z.array(z.string()).min(1),
    grantTypes: z.array(z.string()).min(1),
    responseTypes: z.array(z.string()),
    tokenEndpointAuthMethod: TokenEndpointAuthMethod,
    /** SHA-256 of the server-generated 256-bit secret; null for public clients. */
    secretHash: Sha256Hex.nullable(),
    /** Space-separated scopes the client may request. */
    scope: z.string(),
    idTokenSignedResponseAlg: z.enum(ID_TOKEN_SIGNING_ALGS),
  }),
);

/** Who let a registration in: the initial access token (RFC 7591 §3), or open registration. */
export const RegistrationAuthority = z.enum(['initial_access_token', 'open']);
export type RegistrationAuthority = z.infer<typeof RegistrationAuthority>;

/** RFC 7591 extension metadata `refresh_token_reuse_grace_seconds`: 0 (off) to 60. */
export const RefreshTokenReuseGraceSeconds = z.number().int().min(0).max(60);

/**
 * Version 2 (a new version, V1 untouched): a client without a redirect-based grant has no
 * redirect URIs and no response types (client credentials, password); the per-client refresh
 * token reuse grace; who authorized the registration (a `password` client needs the initial
 * access token, also when it is updated later); and the SHA-256 of the RFC 7592 registration
 * access token (null for seeded clients, which cannot be managed over RFC 7592).
 */
export const ClientRegisteredV2 = eventSchema(
  'client.registered',
  2,
  z.object({
    clientId: z.string().min(1),
    clientName: z.string().optional(),
    applicationType: z.enum(['web', 'native']),
    redirectUris: z.array(z.string()),
    grantTypes: z.array(z.string()).min(1),
    responseTypes: z.array(z.string()),
    tokenEndpointAuthMethod: TokenEndpointAuthMethod,
    /** SHA-256 of the server-generated 256-bit secret; null for public clients. */
    secretHash: Sha256Hex.nullable(),
    /** Space-separated scopes the client may request. */
    scope: z.string(),
    idTokenSignedResponseAlg: z.enum(ID_TOKEN_SIGNING_ALGS),
    refreshTokenReuseGraceSeconds: RefreshTokenReuseGraceSeconds,
    authorizedBy: RegistrationAuthority,
    /** SHA-256 of the 256-bit registration access token (RFC 7592 §1.2); null: not manageable. */
    registrationAccessTokenHash: Sha256Hex.nullable(),
  }),
);

/**
 * RFC 7592 §2.2: the client replaced its metadata (all of it: what it left out took its default).
 * The secret, the registration access token and who authorized the registration do not change.
 */
export const ClientMetadataUpdatedV1 = eventSchema(
  'client.metadata_updated',
  1,
  z.object({
    clientId: z.string().min(1),
    clientName: z.string().optional(),
    applicationType: z.enum(['web', 'native']),
    redirectUris: z.array(z.string()),
    grantTypes: z.array(z.string()).min(1),
    responseTypes: z.array(z.string()),
    tokenEndpointAuthMethod: TokenEndpointAuthMethod,
    scope: z.string(),
    idTokenSignedResponseAlg: z.enum(ID_TOKEN_SIGNING_ALGS),
    refreshTokenReuseGraceSeconds: RefreshTokenReuseGraceSeconds,
  }),
);

/**
 * Logout metadata (OpenID Connect RP-Initiated Logout 1.0 §3.1, Back-Channel Logout 1.0 §2.2):
 * where the client may be sent after logging out, where it is told of a logout, and whether that
 * logout token must carry the session id (`sid`).
 */
export const LogoutMetadata = z.object({
  postLogoutRedirectUris: z.array(z.string()),
  /** null: the client gets no back-channel logout. */
  backchannelLogoutUri: z.string().nullable(),
  backchannelLogoutSessionRequired: z.boolean(),
});
export type LogoutMetadata = z.infer<typeof LogoutMetadata>;

/** Version 3 adds the logout metadata (a new version; V1 and V2 read with none). */
export const ClientRegisteredV3 = eventSchema(
  'client.registered',
  3,
  ClientRegisteredV2.shape.data.extend(LogoutMetadata.shape),
);

/** Version 2 of an RFC 7592 update carries the logout metadata too (V1 reads with none). */
export const ClientMetadataUpdatedV2 = eventSchema(
  'client.metadata_updated',
  2,
  ClientMetadataUpdatedV1.shape.data.extend(LogoutMetadata.shape),
);

/** The client secret was replaced; the old one stops working at once. */
export const ClientSecretRotatedV1 = eventSchema(
  'client.secret_rotated',
  1,
  z.object({ clientId: z.string().min(1), secretHash: Sha256Hex }),
);

/**
 * The client's watermark: every token of this client issued at or before `revokedAt` is
 * refused from now on (introspection, userinfo).
 */
export const ClientTokensRevokedV1 = eventSchema(
  'client.tokens_revoked',
  1,
  z.object({ clientId: z.string().min(1), revokedAt: IsoTime }),
);

/** RFC 7592 §2.3: the client is gone for good, and every token it holds with it. */
export const ClientDeletedV1 = eventSchema(
  'client.deleted',
  1,
  z.object({ clientId: z.string().min(1), deletedAt: IsoTime }),
);

export const ClientEvent = z.discriminatedUnion('type', [
  // One type at several versions: the versions are told apart by schemaVersion.
  z.discriminatedUnion('schemaVersion', [ClientRegisteredV1, ClientRegisteredV2, ClientRegisteredV3]),
  z.discriminatedUnion('schemaVersion', [ClientMetadataUpdatedV1, ClientMetadataUpdatedV2]),
  ClientSecretRotatedV1,
  ClientTokensRevokedV1,
  ClientDeletedV1,
]);
export type ClientEvent = z.infer<typeof ClientEvent>;
