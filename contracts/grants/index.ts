import { z } from 'zod';
import { AuthorizationCodeGrant } from './authorization_code.js';
import { ClientCredentialsGrant } from './client_credentials.js';
import { PasswordGrant } from './password.js';
import { RefreshTokenGrant } from './refresh_token.js';

export * from './authorization_code.js';
export * from './client_credentials.js';
export * from './define.js';
export * from './password.js';
export * from './refresh_token.js';
export * from './resource.js';
export * from './scope-parameter.js';

/** Every grant type the token endpoint serves, in one place (see define.ts). */
export const GRANTS = [AuthorizationCodeGrant, ClientCredentialsGrant, PasswordGrant, RefreshTokenGrant] as const;

export type Grant = (typeof GRANTS)[number];
export type GrantType = Grant['grantType'];
export const GRANT_TYPES: readonly GrantType[] = GRANTS.map((grant) => grant.grantType);

export function grantOf(grantType: string): Grant | undefined {
  return GRANTS.find((grant) => grant.grantType === grantType);
}

/** The grant part of the token-issuer's request: one of the grants' requests, by `grantType`. */
export const GrantRequest = z.discriminatedUnion(
  'grantType',
  GRANTS.map((grant) => grant.request) as unknown as [Grant['request'], ...Grant['request'][]],
);
export type GrantRequest = z.infer<typeof GrantRequest>;
