import type { ClaimRequest } from './claims.js';

/**
 * Authentication Context Class References (OIDC Core §2 `acr`).
 *
 * This server has one way to authenticate, a password (with the throttle of NIST SP 800-63B
 * §5.2.2), recorded since the first login as acr `"0"`: OIDC Core §2's value for an
 * authentication that does not claim ISO/IEC 29115 level 1. Kept as it is: every session and
 * grant in the log carries it, and a relying party must not read more assurance into a password
 * than this server can prove.
 */
export const ACR_PASSWORD = '0';

/** For discovery's `acr_values_supported`. */
export const ACR_VALUES_SUPPORTED: readonly string[] = [ACR_PASSWORD];

/**
 * The `acr` of an ID token, from the session's and what the request asked for:
 *
 * - `acr_values` (§3.1.2.1) are voluntary: the ID token carries the session's acr whatever they say.
 * - the `acr` claim requested voluntarily (null, or without `essential: true`), likewise.
 * - the `acr` claim requested as essential with `value` or `values` (§5.5.1.1): the session's acr
 *   must be one of them (compared as strings, exactly); otherwise the requirement is unmet and
 *   the authentication "MUST be treated as failed" (the caller answers with an error). Essential
 *   without a value or values is met by any acr.
 *
 * Pure: no session is started or re-checked here, and no way of stepping up exists yet.
 */
export function chooseAcr(
  sessionAcr: string,
  acrValues: readonly string[] | undefined,
  essential: ClaimRequest | undefined,
): { acr: string } | { unmet: true } {
  void acrValues; // voluntary: never changes the answer while there is one class only
  if (!essential || essential.essential !== true) return { acr: sessionAcr };
  const acceptable = [...(essential.value !== undefined ? [essential.value] : []), ...(essential.values ?? [])];
  if (acceptable.length === 0) return { acr: sessionAcr };
  return acceptable.some((value) => value === sessionAcr) ? { acr: sessionAcr } : { unmet: true };
}
