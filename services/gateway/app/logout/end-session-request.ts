import { OAuthError } from '../../../../contracts/oauth-error.js';
import type { RawParams } from '../authorize/authorization-request.js';

/** The end_session_endpoint's parameters as received (RP-Initiated Logout 1.0 §2). */
export interface EndSessionParams {
  idTokenHint?: string;
  clientId?: string;
  postLogoutRedirectUri?: string;
  state?: string;
  uiLocales?: string;
}

const LIMITS = { id_token_hint: 16 * 1024, client_id: 256, post_logout_redirect_uri: 2048, state: 512, ui_locales: 256 } as const;

/** Never redirected: until the client and its URI are checked, errors go to an error page. */
const invalid = (description: string) => new OAuthError('invalid_request', description, { mayRedirect: false });

function single(params: RawParams, name: keyof typeof LIMITS): string | undefined {
  const value = params[name];
  // RP-Initiated Logout 1.0 §2 uses OAuth's parameter rules: none may be repeated.
  if (Array.isArray(value)) throw invalid(`${name} is repeated`);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(`${name} must be a string`);
  if (value.length > LIMITS[name]) throw invalid(`${name} is too long`);
  return value;
}

/**
 * Reads the parameters of a logout request (query of a GET, form of a POST); `logout_hint` and
 * unknown parameters are ignored (§2: "other parameters ... MUST be ignored" if not understood).
 */
export function parseEndSessionParams(params: RawParams): EndSessionParams {
  const idTokenHint = single(params, 'id_token_hint');
  const clientId = single(params, 'client_id');
  const postLogoutRedirectUri = single(params, 'post_logout_redirect_uri');
  const state = single(params, 'state');
  const uiLocales = single(params, 'ui_locales');
  return {
    ...(idTokenHint !== undefined ? { idTokenHint } : {}),
    ...(clientId !== undefined ? { clientId } : {}),
    ...(postLogoutRedirectUri !== undefined ? { postLogoutRedirectUri } : {}),
    ...(state !== undefined ? { state } : {}),
    ...(uiLocales !== undefined ? { uiLocales } : {}),
  };
}

/** §3: the RP's `state` goes back to it as a query parameter of the post-logout redirect URI. */
export function postLogoutRedirect(uri: string, state: string | undefined): string {
  const url = new URL(uri);
  if (state !== undefined) url.searchParams.append('state', state);
  return url.href;
}
