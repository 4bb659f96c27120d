import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { startEmbeddedProcess, type EmbeddedProcess } from '../embedded-process.js';
import { openLogReadOnly, type LogPosition } from './log-position.js';

/**
 * The server a fuzz suite attacks, and the good values the fuzzer mixes into its junk so that it
 * gets past the first check: a confidential client with its secret and registration access
 * token, a signed-in session, the tokens of a completed code flow, and pending authorization
 * requests (sealed cookie and rid) waiting at the login and at the consent form.
 */
export interface FuzzWorld {
  server: EmbeddedProcess;
  log: LogPosition;
  issuer: string;
  port: number;
  redirectUri: string;
  client: { id: string; secret: string; registrationAccessToken: string };
  sessionCookie: string;
  tokens: { accessToken: string; refreshToken: string; idToken: string };
  /** Sealed `idp_authz` values and their rids: one at the login form, one at the consent form. */
  atLogin: { authz: string; rid: string };
  atConsent: { authz: string; rid: string };
  codeChallenge: string;
  stop(): Promise<void>;
}

export const FUZZ_ENV = {
  // Logins cost one cheap argon2 run, so the fuzzer can afford many.
  IDP_ARGON2_MEMORY_KIB: '8192',
  IDP_ARGON2_TIME_COST: '1',
  // A loaded machine must not turn a slow answer into a 503: the fuzzer looks for crashes, not speed.
  IDP_REQUEST_TIMEOUT_MS: '30000',
  LOG_LEVEL: 'warn',
};

const setCookie = (response: Response, name: string): string | undefined => {
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(';');
    const [key, ...value] = pair!.split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
};
const ridOf = (html: string) => /name="rid" value="([^"]+)"/.exec(html)?.[1];

export async function startFuzzWorld(): Promise<FuzzWorld> {
  const server = await startEmbeddedProcess({ env: FUZZ_ENV });
  const issuer = server.issuer;
  const redirectUri = `${issuer}/demo/callback`;
  const registered = (await (
    await fetch(`${issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Fuzz target',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email offline_access',
        post_logout_redirect_uris: [`${issuer}/demo/callback`],
      }),
    })
  ).json()) as { client_id: string; client_secret: string; registration_access_token: string };
  const client = { id: registered.client_id, secret: registered.client_secret, registrationAccessToken: registered.registration_access_token };
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`;

  const verifier = randomBytes(32).toString('base64url');
  const codeChallenge = createHash('sha256').update(verifier).digest('base64url');
  const authorizeUrl = `${issuer}/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: redirectUri,
    scope: 'openid profile offline_access',
    state: 'fuzz-state',
    nonce: 'fuzz-nonce',
    prompt: 'consent',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
  })}`;
  const form = (values: Record<string, string>) => new URLSearchParams(values).toString();
  const formHeaders = (cookie: string) => ({ 'content-type': 'application/x-www-form-urlencoded', cookie });

  // A request waiting at the login form.
  const pending = async (cookie = '') => {
    const response = await fetch(authorizeUrl, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    const html = await response.text();
    const authz = setCookie(response, 'idp_authz');
    const rid = ridOf(html);
    if (!authz || !rid) throw new Error(`no pending request from /authorize (${response.status}): ${html.slice(0, 300)}`);
    return { authz, rid, html };
  };
  const atLogin = await pending();
  const login = await pending();
  const loggedIn = await fetch(`${issuer}/authorize/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: formHeaders(`idp_authz=${login.authz}`),
    body: form({ rid: login.rid, username: 'demo', password: 'demo' }),
  });
  const sessionToken = setCookie(loggedIn, 'idp_session');
  if (!sessionToken) throw new Error(`login failed: ${loggedIn.status} ${await loggedIn.text()}`);
  const sessionCookie = `idp_session=${sessionToken}`;
  const consentHtml = await loggedIn.text();
  const consentAuthz = setCookie(loggedIn, 'idp_authz');
  const consentRid = ridOf(consentHtml);
  if (!consentAuthz || !consentRid) throw new Error(`no consent form after login (${loggedIn.status}): ${consentHtml.slice(0, 300)}`);
  const consented = await fetch(`${issuer}/authorize/consent`, {
    method: 'POST',
    redirect: 'manual',
    headers: formHeaders(`idp_authz=${consentAuthz}; ${sessionCookie}`),
    body: form({ rid: consentRid, decision: 'allow' }),
  });
  const code = new URL(consented.headers.get('location') ?? 'x:', issuer).searchParams.get('code');
  if (!code) throw new Error(`no code after consent: ${consented.status} ${consented.headers.get('location')}`);
  const tokenResponse = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    body: form({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }),
  });
  const issued = (await tokenResponse.json()) as { access_token?: string; refresh_token?: string; id_token?: string };
  if (!issued.access_token || !issued.refresh_token || !issued.id_token) throw new Error(`no tokens: ${JSON.stringify(issued)}`);

  // A request waiting at the consent form of the signed-in session (prompt=consent asks again).
  const second = await fetch(authorizeUrl, { redirect: 'manual', headers: { cookie: sessionCookie } });
  const secondHtml = await second.text();
  const atConsent = { authz: setCookie(second, 'idp_authz') ?? '', rid: ridOf(secondHtml) ?? '' };
  if (!atConsent.authz || !atConsent.rid) throw new Error(`no consent form for the session (${second.status}): ${secondHtml.slice(0, 300)}`);

  const log = openLogReadOnly(path.join(server.dataDir, 'idp.db'));
  return {
    server,
    log,
    issuer,
    port: server.port,
    redirectUri,
    client,
    sessionCookie,
    tokens: { accessToken: issued.access_token, refreshToken: issued.refresh_token, idToken: issued.id_token },
    atLogin: { authz: atLogin.authz, rid: atLogin.rid },
    atConsent,
    codeChallenge,
    async stop() {
      log.close();
      await server.stop();
    },
  };
}

export const basicOf = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
