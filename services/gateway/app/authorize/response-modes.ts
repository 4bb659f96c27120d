import type { ResponseMode } from '../../../../contracts/response-types.js';

/** The parameters of an authorization response (success or error), in the order they are sent. */
export type ResponseParams = Record<string, string | undefined>;

/** How an authorization response reaches the client: a redirect, or a self-posting form. */
export type RenderedResponse =
  | { kind: 'redirect'; uri: string }
  /** OAuth 2.0 Form Post Response Mode §2: the browser POSTs `fields` to `action`. */
  | { kind: 'form_post'; action: string; fields: Array<[string, string]> };

type Renderer = (redirectUri: string, params: Array<[string, string]>) => RenderedResponse;

/**
 * The response-mode renderers (Multiple Response Types §2.1, Form Post Response Mode §2). Each
 * response carries `iss` (RFC 9207), whatever its mode.
 */
export const RESPONSE_MODE_RENDERERS: Record<ResponseMode, Renderer> = {
  query(redirectUri, params) {
    const url = new URL(redirectUri);
    for (const [name, value] of params) url.searchParams.append(name, value);
    return { kind: 'redirect', uri: url.href };
  },
  fragment(redirectUri, params) {
    // A registered redirect URI has no fragment (RFC 6749 §3.1.2), so this one is ours alone.
    const url = new URL(redirectUri);
    url.hash = new URLSearchParams(params).toString();
    return { kind: 'redirect', uri: url.href };
  },
  form_post(redirectUri, params) {
    return { kind: 'form_post', action: redirectUri, fields: params };
  },
};

export function renderAuthorizationResponse(
  mode: ResponseMode,
  redirectUri: string,
  issuer: string,
  params: ResponseParams,
): RenderedResponse {
  const present = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return RESPONSE_MODE_RENDERERS[mode](redirectUri, [...present, ['iss', issuer]]);
}
