import { SCOPE_CLAIMS, type ClaimsRequest, type ClaimsRequestMember } from '../../../../contracts/claims.js';
import type { AuthorizationRequest } from './authorization-request.js';

const SCOPE_OF_CLAIM: ReadonlyMap<string, string> = new Map(
  Object.entries(SCOPE_CLAIMS).flatMap(([scope, claims]) => claims.map((claim) => [claim, scope] as [string, string])),
);

/**
 * The `claims` parameter (OIDC Core §5.5) can name user claims one by one, beyond the scopes
 * asked for. The user must consent to them as to any scope, so each named user claim brings in
 * the scope it belongs to (`email` → `email`) for the consent, and a claim whose scope the client
 * did not register is dropped from the request (§5.5: the OP may ignore what it will not give).
 * Protocol claims (`acr`, `auth_time`, `sub`) and unknown names stay: they release no user data.
 */
export function claimsWithinRegistration(claims: ClaimsRequest, registeredScopes: readonly string[]): ClaimsRequest {
  const keep = (member: ClaimsRequestMember | undefined): ClaimsRequestMember | undefined => {
    if (member === undefined) return undefined;
    return Object.fromEntries(
      Object.entries(member).filter(([claim]) => {
        const scope = SCOPE_OF_CLAIM.get(claim);
        return scope === undefined || registeredScopes.includes(scope);
      }),
    );
  };
  const idToken = keep(claims.id_token);
  const userinfo = keep(claims.userinfo);
  return { ...(idToken !== undefined ? { id_token: idToken } : {}), ...(userinfo !== undefined ? { userinfo } : {}) };
}

/** The scopes the user consents to: those asked for, and those of the user claims named one by one. */
export function consentScopes(request: Pick<AuthorizationRequest, 'scope' | 'claims'>): string[] {
  const scopes = new Set(request.scope.split(' ').filter(Boolean));
  for (const member of [request.claims?.id_token, request.claims?.userinfo]) {
    for (const claim of Object.keys(member ?? {})) {
      const scope = SCOPE_OF_CLAIM.get(claim);
      if (scope !== undefined) scopes.add(scope);
    }
  }
  return [...scopes];
}
