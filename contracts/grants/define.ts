import { z } from 'zod';

/**
 * One grant type of the token endpoint (RFC 6749 §4, §6), as every service sees it: its name,
 * how the gateway reads it from the token request's form, and what the token-issuer receives.
 * The list of them (contracts/grants/index.ts) drives the token endpoint's dispatch, discovery's
 * `grant_types_supported` and the `grant_types` a client may register; the token-issuer has one
 * handler per grant type (services/token-issuer/app/grants/).
 *
 * Adding a grant type: its contract here, one line in index.ts, its handler, one line in the
 * token-issuer's handler table.
 */
export interface GrantContract<T extends string, R extends z.ZodObject<{ grantType: z.ZodLiteral<T> }>> {
  grantType: T;
  /** What the token-issuer receives for this grant, besides the context and the authenticated client. */
  request: R;
  /**
   * The token request's form parameters (all strings, an empty one counting as absent, RFC 6749
   * §3.2) as the request; a failure is the client's `invalid_request`.
   */
  fromForm(form: Record<string, string>, repeated: RepeatedParameters): z.input<R>;
}

/** The token request's parameters that may appear more than once. */
export interface RepeatedParameters {
  /** RFC 8707 §2: each `resource` the client asks the token for. */
  resource: string[];
}

export function defineGrant<const T extends string, R extends z.ZodObject<{ grantType: z.ZodLiteral<T> }>>(
  contract: GrantContract<T, R>,
): GrantContract<T, R> {
  return contract;
}
