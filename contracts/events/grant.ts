import { z } from 'zod';
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

export const GrantEvent = z.discriminatedUnion('type', [
  AuthorizationCodeIssuedV1,
  AuthorizationCodeRedeemedV1,
  AuthorizationCodeReplayDetectedV1,
  TokensIssuedV1,
  // One type at several versions: the versions are told apart by schemaVersion.
  z.discriminatedUnion('schemaVersion', [GrantRevokedV1, GrantRevokedV2]),
]);
export type GrantEvent = z.infer<typeof GrantEvent>;
