import { z } from 'zod';
import { ClientView } from './client-registry.js';
import { SessionView } from './authn.js';
import { message } from './define.js';
import { GrantRequest } from '../grants/index.js';

export const IssueCode = message(
  'idp.token-issuer.issue_code',
  {
    clientId: z.string(),
    session: SessionView,
    redirectUri: z.string(),
    scope: z.string(),
    nonce: z.string().optional(),
    codeChallenge: z.string().optional(),
    codeChallengeMethod: z.literal('S256').optional(),
  },
  z.object({ code: z.string() }),
);

export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  scope: z.string(),
  id_token: z.string().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

/**
 * A token request at the token endpoint (RFC 6749 §3.2), for a client the gateway has already
 * authenticated: one subject for every grant type, dispatched on `grant.grantType`
 * (contracts/grants/).
 */
export const GrantTokens = message(
  'idp.token-issuer.grant_tokens',
  {
    client: ClientView,
    grant: GrantRequest,
  },
  TokenResponse,
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
    }),
  ]),
);

export const GetJwks = message(
  'idp.token-issuer.get_jwks',
  {},
  z.object({ keys: z.array(z.record(z.string(), z.unknown())) }),
);
