import type { CookieJar, HttpClient, HttpResponse } from '../http.js';
import { codeFromRedirect, REDIRECT_URI, type AuthorizationParams } from './target.js';

/**
 * The browser part of a code flow, as a user agent runs it: follow redirects within the server,
 * answer the forms the server shows (`answer` names the next request for a page, or undefined
 * for a page it does not know), and stop at the redirect to the client.
 */
export type PageAnswer = (page: HttpResponse, url: URL) => { url: URL; form: Record<string, string> } | undefined;

const MAX_STEPS = 10;

export async function runBrowserFlow(
  http: HttpClient,
  jar: CookieJar,
  start: URL,
  state: string,
  answer: PageAnswer,
): Promise<string> {
  let url = start;
  let response = await http.request(url, { jar, headers: { accept: 'text/html' } });
  for (let step = 0; step < MAX_STEPS; step++) {
    const location = response.headers.location;
    if (response.status >= 300 && response.status < 400 && location) {
      if (location.startsWith(REDIRECT_URI)) return codeFromRedirect(location, state);
      url = new URL(location, url);
      response = await http.request(url, { jar, headers: { accept: 'text/html' } });
      continue;
    }
    const next = response.status === 200 ? answer(response, url) : undefined;
    if (!next) throw new Error(`unexpected page at ${url.pathname}: ${response.status} ${response.body.slice(0, 300)}`);
    url = next.url;
    response = await http.request(url, { jar, form: next.form, headers: { accept: 'text/html' } });
  }
  throw new Error(`no redirect to the client after ${MAX_STEPS} steps`);
}

/** The value of a hidden input of a form. */
export function hiddenInput(html: string, name: string): string | undefined {
  const input = new RegExp(`<input\\b[^>]*\\bname="${name}"[^>]*>`, 'i').exec(html)?.[0];
  const value = input ? /\bvalue="([^"]*)"/i.exec(input)?.[1] : undefined;
  return value
    ?.replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** The code + PKCE authorization request both servers are sent (RFC 6749 §4.1.1, RFC 7636 §4.3). */
export function authorizationUrl(endpoint: string, params: AuthorizationParams): URL {
  const url = new URL(endpoint);
  url.search = new URLSearchParams({
    client_id: params.client.clientId,
    response_type: 'code',
    scope: params.scope,
    redirect_uri: REDIRECT_URI,
    state: params.state,
    code_challenge: params.codeChallenge,
    code_challenge_method: 'S256',
    ...(params.prompt ? { prompt: params.prompt } : {}),
  }).toString();
  return url;
}
