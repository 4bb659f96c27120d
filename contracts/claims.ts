import { z } from 'zod';
import { OAuthError } from './oauth-error.js';
import { splitLanguageTag } from './profile-claims.js';

/**
 * Which user claims a request asks for: the standard scopes (OIDC Core §5.4) and the `claims`
 * request parameter (§5.5). What a user then releases is authn's `idp.authn.user_claims`.
 */

/** OIDC Core §5.4: the claims each standard scope requests. */
export const SCOPE_CLAIMS = {
  profile: [
    'name',
    'family_name',
    'given_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'profile',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
} as const satisfies Record<string, readonly string[]>;

/** The user claims (OIDC Core §5.1) a user of this server can have, besides `sub`. */
export const USER_CLAIMS: readonly string[] = Object.values(SCOPE_CLAIMS).flat();

/** For discovery's `claims_supported`: the ID token's own claims and every user claim. */
export const CLAIMS_SUPPORTED: readonly string[] = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'sid',
  'azp',
  'at_hash',
  'c_hash',
  ...USER_CLAIMS,
];

/** §5.5.1: `null` (requested, voluntary) or how it is requested; other members are ignored. */
export const ClaimRequest = z.union([
  z.null(),
  z.object({
    essential: z.boolean().optional(),
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    values: z.array(z.union([z.string(), z.number(), z.boolean()])).max(32).optional(),
  }),
]);
export type ClaimRequest = z.infer<typeof ClaimRequest>;

/** One member of the claims parameter (`userinfo` or `id_token`): claim name -> request. */
export const ClaimsRequestMember = z.record(z.string().min(1).max(256), ClaimRequest);
export type ClaimsRequestMember = z.infer<typeof ClaimsRequestMember>;

/** §5.5: the claims request parameter; top-level members other than these two are ignored. */
export const ClaimsRequest = z.object({
  userinfo: ClaimsRequestMember.optional(),
  id_token: ClaimsRequestMember.optional(),
});
export type ClaimsRequest = z.infer<typeof ClaimsRequest>;

/** The longest `claims` parameter accepted, in characters. */
export const MAX_CLAIMS_PARAMETER_LENGTH = 4096;

/**
 * The `claims` authorization request parameter (OIDC Core §5.5): JSON text of an object whose
 * `userinfo` and `id_token` members map claim names to null or a request object. Anything else
 * is `invalid_request` (never echoed). Unknown claim names and unknown members are kept or
 * dropped but never an error: "claims not understood MUST be ignored".
 */
export function parseClaimsParameter(text: string): ClaimsRequest {
  if (text.length > MAX_CLAIMS_PARAMETER_LENGTH) {
    throw new OAuthError('invalid_request', `the claims parameter is longer than ${MAX_CLAIMS_PARAMETER_LENGTH} characters`);
  }
  let json: unknown;
  try {
    // A `__proto__` member would become the prototype of the parsed record: refused outright.
    json = JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__') throw new Error('__proto__');
      return value;
    });
  } catch {
    throw new OAuthError('invalid_request', 'the claims parameter is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new OAuthError('invalid_request', 'the claims parameter is not a JSON object');
  }
  const parsed = ClaimsRequest.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path[0];
    throw new OAuthError(
      'invalid_request',
      `the claims parameter is malformed${where === 'userinfo' || where === 'id_token' ? ` (in ${where})` : ''}`,
    );
  }
  return parsed.data;
}

/** True for a user claim this server knows (OIDC Core §5.1), also language-tagged (§5.2). */
export function isUserClaim(name: string): boolean {
  return USER_CLAIMS.includes(name) || splitLanguageTag(name) !== undefined;
}

/**
 * The user claims (besides `sub`, which is always released) that the granted scopes and one
 * member of the claims parameter ask for, each once, scope claims first. Names this server does
 * not know, and the ID token's own claims (`acr`, `auth_time`, ...), are not user claims and are
 * left out. Essential or voluntary does not matter here (§5.5.1: neither is an error when absent).
 */
export function requestedClaimNames(scopes: readonly string[], member: ClaimsRequestMember | undefined): string[] {
  const names = new Set<string>();
  for (const scope of scopes) {
    if (Object.hasOwn(SCOPE_CLAIMS, scope)) for (const claim of SCOPE_CLAIMS[scope as keyof typeof SCOPE_CLAIMS]) names.add(claim);
  }
  for (const name of Object.keys(member ?? {})) if (isUserClaim(name)) names.add(name);
  return [...names];
}

/** At most this many `claims_locales` reach `idp.authn.user_claims`, each a tag of at most 35 characters. */
export const MAX_CLAIMS_LOCALES = 16;

/**
 * `claims_locales` (OIDC Core §5.2, §5.5.2): space-separated BCP 47 tags, most preferred first.
 * A preference, never an error: malformed tags are skipped, repeats dropped, and the list cut at
 * MAX_CLAIMS_LOCALES, so the result always fits `idp.authn.user_claims`.
 */
export function parseClaimsLocales(text: string | undefined): string[] {
  const tags = (text ?? '').split(' ').filter((tag) => tag.length <= 35 && /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(tag));
  return [...new Set(tags)].slice(0, MAX_CLAIMS_LOCALES);
}

/**
 * The subject a claims request insists on (§5.5.1: `"sub": { "value": … }` in the `id_token`
 * member): the authorization server "MUST NOT reply with an ID Token or Access Token for a
 * different user", so a session of another user must not answer it. A value that is not a
 * string is returned as text: it names no subject of ours, so it matches none (fails closed).
 * Undefined when none is asked.
 */
export function requestedSubject(claims: ClaimsRequest | undefined): string | undefined {
  const sub = claims?.id_token?.sub;
  return sub && sub.value !== undefined ? String(sub.value) : undefined;
}
