import { requestedClaimNames, type ClaimsRequestMember } from '../../../../contracts/claims.js';
import { LOCALIZABLE_CLAIMS, splitLanguageTag, type LocalizableClaim } from '../../../../contracts/profile-claims.js';
import type { UserProfile } from '../../../../contracts/events/user.js';

export interface ClaimsToRelease {
  /** The granted scopes (OIDC Core §5.4). */
  scopes: readonly string[];
  /** One member of the claims parameter (§5.5): claims asked for one by one. */
  requested?: ClaimsRequestMember | undefined;
  /** `claims_locales` (§5.5.2), most preferred first. */
  locales?: readonly string[] | undefined;
}

/**
 * The claims a user releases (OIDC Core §5.3.2, §5.4, §5.5): `sub` always; then each claim that
 * the scopes or the claims parameter ask for and the user has. `profile` undefined: the user was
 * forgotten (their data key destroyed), so only the opaque subject remains.
 *
 * - Essential or voluntary makes no difference: a claim the user lacks is left out, never an
 *   error (§5.5.1). A requested `value` / `values` does not change the value released.
 * - Unknown claim names are ignored (§5.5).
 * - Language tags (§5.2) for name, given_name, family_name, nickname: asking for `name` releases
 *   it in the first of `locales` the user has it in (BCP 47 lookup: `de-CH`, then `de`), under
 *   the plain name as §5.2 recommends; without a match the untagged value; when there is none,
 *   every tagged variant. `name#de` asked for by name releases exactly that variant.
 *
 * Pure: the caller opens the sealed profile.
 */
export function releaseClaims(sub: string, profile: UserProfile | undefined, request: ClaimsToRelease): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub };
  if (!profile) return claims;
  const tagged = taggedVariants(profile);
  for (const name of requestedClaimNames(request.scopes, request.requested)) {
    const languageTagged = splitLanguageTag(name);
    if (languageTagged) {
      const value = tagged.get(languageTagged.claim)?.get(languageTagged.tag.toLowerCase());
      if (value !== undefined) claims[name] = value.value;
      continue;
    }
    if ((LOCALIZABLE_CLAIMS as readonly string[]).includes(name)) {
      Object.assign(claims, localized(profile, tagged, name as LocalizableClaim, request.locales ?? []));
      continue;
    }
    const value = profile[name as keyof UserProfile];
    if (value !== undefined) claims[name] = value;
  }
  return claims;
}

type Variants = Map<LocalizableClaim, Map<string, { key: string; value: string }>>;

/** The user's tagged values per claim, by lower-cased tag (tags are case-insensitive, BCP 47 §2.1.1). */
function taggedVariants(profile: UserProfile): Variants {
  const variants: Variants = new Map();
  for (const [key, value] of Object.entries(profile.languageTagged ?? {})) {
    const split = splitLanguageTag(key);
    if (!split) continue;
    const byTag = variants.get(split.claim) ?? new Map<string, { key: string; value: string }>();
    byTag.set(split.tag.toLowerCase(), { key, value });
    variants.set(split.claim, byTag);
  }
  return variants;
}

function localized(profile: UserProfile, tagged: Variants, claim: LocalizableClaim, locales: readonly string[]): Record<string, string> {
  const byTag = tagged.get(claim);
  for (const locale of locales) {
    // BCP 47 (RFC 4647 §3.4) lookup: the whole tag, then ever shorter prefixes.
    const subtags = locale.toLowerCase().replace(/_/g, '-').split('-');
    for (let length = subtags.length; length > 0; length--) {
      const match = byTag?.get(subtags.slice(0, length).join('-'));
      if (match) return { [claim]: match.value };
    }
  }
  const plain = profile[claim];
  if (plain !== undefined) return { [claim]: plain };
  return Object.fromEntries([...(byTag?.values() ?? [])].map(({ key, value }) => [key, value]));
}
