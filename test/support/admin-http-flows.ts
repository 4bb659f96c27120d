import { EXIT } from '../../services/cli/exit-codes.js';
import type { IdpRun } from './cli.js';

/**
 * What the `idp user` / `idp client` tests do over HTTP against a running IdP (embedded process
 * or distributed gateway) to see an administrative command take effect: a password grant for a
 * user, client credentials, introspection, userinfo and refresh, as a relying party would.
 */
export interface HttpClient {
  clientId: string;
  clientSecret: string;
}

const basic = (client: HttpClient) => `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;

async function postForm(issuer: string, path: string, client: HttpClient, form: Record<string, string>): Promise<Response> {
  return fetch(new URL(path, issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client) },
    body: new URLSearchParams(form).toString(),
  });
}

export interface Tokens {
  access_token: string;
  refresh_token?: string;
}

export async function passwordGrant(issuer: string, client: HttpClient, username: string, password: string): Promise<Tokens> {
  const response = await postForm(issuer, '/token', client, { grant_type: 'password', username, password, scope: 'openid offline_access' });
  if (response.status !== 200) throw new Error(`password grant: ${response.status} ${await response.text()}`);
  return (await response.json()) as Tokens;
}

export async function clientCredentials(issuer: string, client: HttpClient, scope: string): Promise<Tokens> {
  const response = await postForm(issuer, '/token', client, { grant_type: 'client_credentials', scope });
  if (response.status !== 200) throw new Error(`client credentials: ${response.status} ${await response.text()}`);
  return (await response.json()) as Tokens;
}

/** The status and OAuth error of a refresh. */
export async function refreshOutcome(issuer: string, client: HttpClient, refreshToken: string): Promise<{ status: number; error?: string }> {
  const response = await postForm(issuer, '/token', client, { grant_type: 'refresh_token', refresh_token: refreshToken });
  const body = (await response.json()) as { error?: string };
  return { status: response.status, ...(body.error !== undefined ? { error: body.error } : {}) };
}

export async function introspectionActive(issuer: string, client: HttpClient, token: string): Promise<boolean> {
  const response = await postForm(issuer, '/introspect', client, { token });
  if (response.status !== 200) throw new Error(`introspection: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { active: boolean }).active;
}

export async function userinfoStatus(issuer: string, accessToken: string): Promise<number> {
  return (await fetch(new URL('/userinfo', issuer), { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

/**
 * Polls `check` every 25 ms until it holds; how long that took (ms from the call), or an error
 * naming `what` once `withinMs` has passed. For "takes effect within a second" without a fixed sleep.
 */
export async function takesEffect(check: () => Promise<boolean>, what: string, withinMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The JSON a successful `--json` run printed; fails the test with the run's stderr otherwise. */
export function jsonOf<T>(run: IdpRun): T {
  if (run.code !== EXIT.ok) throw new Error(`idp exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
