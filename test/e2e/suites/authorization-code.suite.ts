import { describeClientManagement } from './client-management.suite.js';
import { describeClientCredentials } from './client-credentials.suite.js';
import { describeTokenIntrospection } from './introspection.suite.js';
import { describeRefreshTokens } from './refresh-token.suite.js';
import { describeRpInitiatedLogout } from './logout.suite.js';
import { describeTrustedClientGrants } from './trusted-clients.suite.js';
import { describeClientAddress, TEST_PROXY } from './client-address.suite.js';
import { describeTokenRevocation } from './revocation.suite.js';
import { describeTokenEndpointNegatives } from './token-endpoint-negative.suite.js';
import { describePages } from './pages.suite.js';
import { describeUserClaims, E2E_USER_CLAIMS } from './user-claims.suite.js';
import { describeBrowserFlows } from './browser-flows.suite.js';
import { describeAuthorizationHoles } from './authorization-holes.suite.js';
import { describeOidcRequestParameters } from './oidc-parameters.suite.js';
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { Browser, hiddenRid, type AuthorizeResult } from '../../support/browser.js';
import type { IdpUnderTest, StartIdp } from '../../support/idp-under-test.js';
import { describeRebuildVerify } from './rebuild-verify.suite.js';

/**
 * The authorization code flow (RFC 6749 §4.1, OIDC Core §3.1, RFC 7636), end to end against an
 * IdP deployment (embedded process or distributed services), driven by openid-client and a
 * cookie-keeping "browser". Every test registers its own clients (RFC 7591), so consent given in
 * one test never leaks into another. Runners: authorization-code.<topology>.e2e.test.ts.
 */

const USERNAME = `alice-${randomBytes(4).toString('hex')}`;
const PASSWORD = `pw-${randomBytes(12).toString('base64url')}`;
const REDIRECT_URI = 'https://rp.example.test/callback';
const SCOPE = 'openid profile';
/** RFC 8707: the resource servers the test IdPs issue tokens for (client-credentials suite). */
const RESOURCE_SERVERS = 'https://api.example.test/orders https://api.example.test/ urn:example:inventory';

let server: IdpUnderTest;

/** openid-client over plain http, checking ID token signatures against the JWKS too. */
const clientOptions = () => ({ execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] });

function registerClient(
  method: 'client_secret_basic' | 'client_secret_post' | 'none',
  issuer = server.issuer,
): Promise<client.Configuration> {
  const auth = { client_secret_basic: client.ClientSecretBasic, client_secret_post: client.ClientSecretPost, none: client.None }[method]();
  return client.dynamicClientRegistration(
    new URL(issuer),
    { client_name: `e2e ${method}`, redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: method, scope: 'openid profile email' },
    auth,
    clientOptions(),
  );
}

interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  /** The response's status and headers (its body is left to openid-client). */
  response?: { status: number; headers: Headers };
}

/** Records every request openid-client makes with this configuration. */
function recordRequests(config: client.Configuration): RecordedRequest[] {
  const recorded: RecordedRequest[] = [];
  config[client.customFetch] = (url, options) => {
    const headers = Object.fromEntries(Object.entries(options.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const entry: RecordedRequest = { url, method: options.method, headers, body: typeof options.body === 'string' ? options.body : String(options.body ?? '') };
    recorded.push(entry);
    return fetch(url, options as RequestInit).then((response) => {
      entry.response = { status: response.status, headers: response.headers };
      return response;
    });
  };
  return recorded;
}

interface Authorization {
  state: string;
  nonce: string;
  codeVerifier: string | undefined;
  result: AuthorizeResult;
}

async function authorize(
  config: client.Configuration,
  browser: Browser,
  options: { pkce?: boolean; consent?: 'allow' | 'deny'; scope?: string } = {},
): Promise<Authorization> {
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = options.pkce ? client.randomPKCECodeVerifier() : undefined;
  const params: Record<string, string> = { redirect_uri: REDIRECT_URI, scope: options.scope ?? SCOPE, state, nonce };
  if (codeVerifier) {
    params.code_challenge = await client.calculatePKCECodeChallenge(codeVerifier);
    params.code_challenge_method = 'S256';
  }
  const url = client.buildAuthorizationUrl(config, params);
  const result = await browser.authorize(url, { username: USERNAME, password: PASSWORD, consent: options.consent ?? 'allow' });
  return { state, nonce, codeVerifier, result };
}

function exchange(config: client.Configuration, authorization: Authorization) {
  return client.authorizationCodeGrant(config, authorization.result.callback, {
    expectedState: authorization.state,
    expectedNonce: authorization.nonce,
    ...(authorization.codeVerifier ? { pkceCodeVerifier: authorization.codeVerifier } : {}),
  });
}

interface WireResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function post(
  path: string,
  body: string,
  headers: Record<string, string>,
  issuer = server.issuer,
): Promise<WireResponse> {
  const response = await fetch(`${issuer}${path}`, { method: 'POST', headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`POST ${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 500)}`);
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

const tokenRequest = (form: Record<string, string>, headers: Record<string, string> = {}) =>
  post('/token', new URLSearchParams(form).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });

/** RFC 6749 §2.3.1: form-urlencode, then base64. */
const basicAuth = (clientId: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function secretOf(config: client.Configuration): string {
  const secret = config.clientMetadata().client_secret;
  if (typeof secret !== 'string') throw new Error('the registration response carried no client_secret');
  return secret;
}

/**
 * `afterFlows` adds checks that run after every flow of the suite, against the same deployment
 * (the distributed runner compares the live event stream with the log there).
 */
export function describeAuthorizationCodeFlows(
  topology: string,
  start: StartIdp,
  hooks: { started?: (server: IdpUnderTest) => Promise<void>; afterFlows?: (server: () => IdpUnderTest) => void } = {},
): void {
beforeAll(async () => {
  server = await start({
    user: { username: USERNAME, password: PASSWORD, claims: E2E_USER_CLAIMS },
    env: { IDP_RESOURCE_SERVERS: RESOURCE_SERVERS },
  });
  await hooks.started?.(server);
}, 90_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

describe(`authorization code flow (${topology} IdP over HTTP)`, () => {
  it('confidential client with client_secret_basic: login, consent, code exchange, verified ID token, userinfo', async () => {
    const config = await registerClient('client_secret_basic');
    const requests = recordRequests(config);
    const browser = new Browser();
    const before = Math.floor(Date.now() / 1000);

    const authorization = await authorize(config, browser);

    expect(authorization.result.sawLogin).toBe(true);
    expect(authorization.result.sawConsent).toBe(true);
    const callback = authorization.result.callback;
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));
    expect(callback.searchParams.get('state')).toBe(authorization.state);
    // RFC 9207 §2: the issuer identifies itself in the authorization response.
    expect(callback.searchParams.get('iss')).toBe(server.issuer);
    expect(browser.cookie('idp_session')).toMatchObject({ path: '/', httpOnly: true });
    // The pending-request cookie is cleared once the request is answered.
    expect(browser.cookie('idp_authz')).toBeUndefined();

    const tokens = await exchange(config, authorization);

    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.scope).toBe(SCOPE);
    const claims = tokens.claims();
    expect(claims).toBeDefined();
    expect(claims).toMatchObject({
      iss: server.issuer,
      nonce: authorization.nonce,
      sub: expect.any(String),
      sid: expect.any(String),
      auth_time: expect.any(Number),
    });
    expect([claims!.aud].flat()).toContain(config.clientMetadata().client_id);
    expect(claims!.sub).not.toBe(USERNAME); // OIDC Core §8: sub is opaque, never the username
    expect(claims!.auth_time!).toBeGreaterThanOrEqual(before - 5);
    expect(claims!.auth_time!).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 5);

    const tokenCall = requests.find((r) => r.url === `${server.issuer}/token`);
    expect(tokenCall?.headers.authorization).toMatch(/^Basic /);
    expect(new URLSearchParams(tokenCall!.body).has('client_secret')).toBe(false);
    // RFC 6749 §5.1: token responses must not be cached.
    expect(tokenCall!.response?.status).toBe(200);
    expect(tokenCall!.response?.headers.get('cache-control')).toBe('no-store');

    // OIDC Core §3.1.3.6: at_hash is the left half of SHA-256 of the access token (RS256).
    const digest = createHash('sha256').update(tokens.access_token).digest();
    expect(claims!.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');

    // RFC 9068: the access token is a JWT with typ at+jwt, signed with a key from the JWKS.
    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    const { payload: at, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.issuer,
      typ: 'at+jwt',
    });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(at).toMatchObject({
      sub: claims!.sub,
      client_id: config.clientMetadata().client_id,
      scope: SCOPE,
      jti: expect.any(String),
      iat: expect.any(Number),
      exp: expect.any(Number),
      aud: expect.anything(),
    });

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims!.sub);
    expect(userinfo).toMatchObject({ sub: claims!.sub, preferred_username: USERNAME, name: expect.any(String) });
    expect(userinfo.email).toBeUndefined(); // the email scope was not asked for
  });

  it('confidential client with client_secret_post', async () => {
    const config = await registerClient('client_secret_post');
    const requests = recordRequests(config);
    const authorization = await authorize(config, new Browser(), { pkce: true });

    const tokens = await exchange(config, authorization);

    const tokenCall = requests.find((r) => r.url === `${server.issuer}/token`);
    expect(tokenCall?.headers.authorization).toBeUndefined();
    const form = new URLSearchParams(tokenCall!.body);
    expect(form.get('client_id')).toBe(config.clientMetadata().client_id);
    expect(form.get('client_secret')).toBe(secretOf(config));
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: server.issuer, nonce: authorization.nonce, sid: expect.any(String) });
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(userinfo.preferred_username).toBe(USERNAME);
  });

  it('public client with PKCE S256: the session cookie skips the login form, a new client still asks for consent', async () => {
    const confidential = await registerClient('client_secret_basic');
    const publicClient = await registerClient('none');
    const requests = recordRequests(publicClient);
    const browser = new Browser();
    const first = await authorize(confidential, browser);
    expect(first.result.sawLogin).toBe(true);
    const firstClaims = (await exchange(confidential, first)).claims()!;

    const second = await authorize(publicClient, browser, { pkce: true });

    expect(second.result.sawLogin).toBe(false);
    expect(second.result.sawConsent).toBe(true);
    expect(second.result.callback.searchParams.get('iss')).toBe(server.issuer);
    const tokens = await exchange(publicClient, second);
    const tokenForm = new URLSearchParams(requests.find((r) => r.url === `${server.issuer}/token`)!.body);
    expect(tokenForm.get('code_verifier')).toBe(second.codeVerifier);
    expect(tokenForm.has('client_secret')).toBe(false);
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(firstClaims.sub);
    // The same login session: same sid and auth_time.
    expect(claims.sid).toBe(firstClaims.sid);
    expect(claims.auth_time).toBe(firstClaims.auth_time);
    const userinfo = await client.fetchUserInfo(publicClient, tokens.access_token, claims.sub);
    expect(userinfo).toMatchObject({ sub: claims.sub, preferred_username: USERNAME });
  });

  it('an already consented client and scope set goes straight to the redirect (no login, no consent)', async () => {
    const config = await registerClient('client_secret_basic');
    const browser = new Browser();
    const first = await authorize(config, browser);
    expect(first.result.sawLogin).toBe(true);
    expect(first.result.sawConsent).toBe(true);
    await exchange(config, first);

    const again = await authorize(config, browser);

    expect(again.result.sawLogin).toBe(false);
    expect(again.result.sawConsent).toBe(false);
    expect(again.result.pages).toHaveLength(1);
    expect(again.result.pages[0]!.status).toBe(303);
    const tokens = await exchange(config, again);
    expect(tokens.claims()).toMatchObject({ nonce: again.nonce, iss: server.issuer });

    // A scope that was never consented to asks again.
    const wider = await authorize(config, browser, { scope: 'openid profile email' });
    expect(wider.result.sawLogin).toBe(false);
    expect(wider.result.sawConsent).toBe(true);
  });

  it('a denied consent redirects with access_denied, state and iss', async () => {
    const config = await registerClient('client_secret_basic');
    const authorization = await authorize(config, new Browser(), { consent: 'deny' });

    const callback = authorization.result.callback;
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(authorization.state);
    expect(callback.searchParams.get('iss')).toBe(server.issuer);
    expect(callback.searchParams.has('code')).toBe(false);
    await expect(exchange(config, authorization)).rejects.toMatchObject({ error: 'access_denied' });
  });

  it('a wrong PKCE code_verifier gets 400 invalid_grant at the token endpoint', async () => {
    const config = await registerClient('none');
    const authorization = await authorize(config, new Browser(), { pkce: true });
    const wrongVerifier = client.randomPKCECodeVerifier();
    expect(wrongVerifier).not.toBe(authorization.codeVerifier);

    const failure = await exchange(config, { ...authorization, codeVerifier: wrongVerifier }).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(client.ResponseBodyError);
    const error = failure as client.ResponseBodyError;
    expect(error.status).toBe(400);
    expect(error.error).toBe('invalid_grant');
    expect(error.cause).toMatchObject({ error: 'invalid_grant' });
    expect(error.response.headers.get('cache-control')).toBe('no-store');
  });

  it('a replayed code gets 400 invalid_grant and revokes the access token issued with it', async () => {
    const config = await registerClient('client_secret_basic');
    const authorization = await authorize(config, new Browser());
    const code = authorization.result.callback.searchParams.get('code')!;
    const tokens = await exchange(config, authorization);
    const sub = tokens.claims()!.sub;
    // The token works before the replay: the 401 below is the replay's doing.
    await expect(client.fetchUserInfo(config, tokens.access_token, sub)).resolves.toMatchObject({ sub });

    const replay = await tokenRequest(
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
      { authorization: basicAuth(config.clientMetadata().client_id, secretOf(config)) },
    );

    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: 'invalid_grant' });
    expect(replay.headers.get('cache-control')).toBe('no-store');

    // RFC 6749 §4.1.2 / RFC 9700 §4.2.4: tokens issued from a replayed code are revoked.
    const userinfo = await fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
    expect(userinfo.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(await userinfo.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('an unregistered redirect_uri or an unknown client_id gets an HTML error page, never a redirect', async () => {
    const config = await registerClient('client_secret_basic');
    const clientId = config.clientMetadata().client_id;
    const browser = new Browser();
    const base = {
      response_type: 'code',
      scope: 'openid',
      state: client.randomState(),
    };
    const evil = new URL(`${server.issuer}/authorize`);
    evil.search = new URLSearchParams({ ...base, client_id: clientId, redirect_uri: 'https://evil.example.test/callback' }).toString();
    const unknown = new URL(`${server.issuer}/authorize`);
    unknown.search = new URLSearchParams({ ...base, client_id: `unknown-${randomBytes(6).toString('hex')}`, redirect_uri: REDIRECT_URI }).toString();

    for (const url of [evil, unknown]) {
      const page = await browser.get(url);
      expect({ url: url.href, status: page.status }).toEqual({ url: url.href, status: 400 });
      expect(page.location).toBeNull();
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.body).toContain('<code>invalid_request</code>');
      expect(page.body).not.toContain('evil.example.test');
    }
    // The same through POST /authorize (OIDC Core §3.1.2.1).
    const posted = await browser.postForm(`${server.issuer}/authorize`, Object.fromEntries(evil.searchParams));
    expect(posted.status).toBe(400);
    expect(posted.location).toBeNull();
    expect(browser.cookie('idp_authz')).toBeUndefined();
  });

  it('token endpoint errors on the wire: invalid_client (401, WWW-Authenticate), unsupported_grant_type (400), no-store', async () => {
    const basicClient = await registerClient('client_secret_basic');
    const postClient = await registerClient('client_secret_post');
    const basicId = basicClient.clientMetadata().client_id;
    const postId = postClient.clientMetadata().client_id;
    const codeForm = { grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT_URI };

    const wrongBasic = await tokenRequest(codeForm, { authorization: basicAuth(basicId, 'not-the-secret') });
    expect(wrongBasic.status).toBe(401);
    expect(wrongBasic.body).toMatchObject({ error: 'invalid_client' });
    expect(wrongBasic.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(wrongBasic.headers.get('cache-control')).toBe('no-store');

    const wrongPost = await tokenRequest({ ...codeForm, client_id: postId, client_secret: 'not-the-secret' });
    expect(wrongPost.status).toBe(401);
    expect(wrongPost.body).toMatchObject({ error: 'invalid_client' });
    expect(wrongPost.headers.get('www-authenticate')).toEqual(expect.any(String));
    expect(wrongPost.headers.get('cache-control')).toBe('no-store');

    const unknownClient = await tokenRequest(codeForm, { authorization: basicAuth('no-such-client', 'secret') });
    expect(unknownClient.status).toBe(401);
    expect(unknownClient.body).toMatchObject({ error: 'invalid_client' });

    const unsupported = await tokenRequest(
      { grant_type: 'urn:example:no-such-grant' },
      { authorization: basicAuth(basicId, secretOf(basicClient)) },
    );
    expect(unsupported.status).toBe(400);
    expect(unsupported.body).toMatchObject({ error: 'unsupported_grant_type' });
    expect(unsupported.headers.get('cache-control')).toBe('no-store');

    const badCode = await tokenRequest(codeForm, { authorization: basicAuth(basicId, secretOf(basicClient)) });
    expect(badCode.status).toBe(400);
    expect(badCode.body).toMatchObject({ error: 'invalid_grant' });
    expect(badCode.headers.get('cache-control')).toBe('no-store');
  });

  it('userinfo without any access token: 401 with a Bearer challenge that has no error code (RFC 6750 §3.1)', async () => {
    const response = await fetch(`${server.issuer}/userinfo`);
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate');
    expect(challenge).toMatch(/^Bearer /);
    // "If the request lacks any authentication information ... the resource server SHOULD NOT
    // include an error code or other error information."
    expect(challenge).not.toMatch(/error=/);
    expect(await response.json()).toEqual({});
  });

  it('max_age older than the session and prompt=login force a new login; prompt is a space-separated list (OIDC Core §3.1.2.1)', async () => {
    const config = await registerClient('client_secret_basic');
    const browser = new Browser();
    const first = await authorize(config, browser);
    expect(first.result.sawLogin).toBe(true);
    await new Promise((r) => setTimeout(r, 1100)); // auth_time has whole seconds
    const params = (extra: Record<string, string>) => client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: SCOPE, state: client.randomState(), ...extra });

    const fresh = await browser.get(params({ max_age: '3600' }));
    expect(fresh.status).toBe(303); // recent enough: no login
    const stale = await browser.get(params({ max_age: '0' }));
    expect(stale.kind).toBe('login');
    const both = await browser.get(params({ prompt: 'login consent' }));
    expect(both.kind).toBe('login');
    const none = await browser.get(params({ prompt: 'none', max_age: '0' }));
    expect(none.status).toBe(303);
    expect(new URL(none.headers.get('location')!).searchParams.get('error')).toBe('login_required');
    const badMaxAge = await browser.get(params({ max_age: '-1' }));
    expect(new URL(badMaxAge.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('a state too long to travel in the pending-request cookie is refused with invalid_request, not lost', async () => {
    const config = await registerClient('client_secret_basic');
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: SCOPE, state: 'x'.repeat(3000) });
    const page = await new Browser().get(url);
    expect(page.status).toBe(303);
    const location = new URL(page.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('CORS for browser apps on discovery, JWKS, token and userinfo only, never with credentials', async () => {
    const origin = 'https://spa.example.test';
    for (const path of ['/token', '/userinfo']) {
      const preflight = await fetch(`${server.issuer}${path}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(preflight.status).toBeLessThan(300);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
      expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    }
    const discovery = await fetch(`${server.issuer}/.well-known/openid-configuration`, { headers: { origin } });
    expect(discovery.headers.get('access-control-allow-origin')).toBe('*');
    const authorizePage = await fetch(`${server.issuer}/authorize?client_id=x`, { headers: { origin } });
    expect(authorizePage.headers.get('access-control-allow-origin')).toBeNull();
    expect(authorizePage.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('a malformed body is an OAuth invalid_request, not a framework error', async () => {
    const response = await post('/register', '{"redirect_uris": [', { 'content-type': 'application/json' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_request' });
    expect(response.headers.get('cache-control')).toBe('no-store');
    const tooLarge = await post('/token', `grant_type=authorization_code&code=${'a'.repeat(70_000)}`, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ error: 'invalid_request' });
  });

  it('a registration holding a lone UTF-16 surrogate gets 400 invalid_client_metadata, and the IdP keeps registering and serving', async () => {
    // The JSON text escape \ud800 decodes to a lone surrogate, which no event hash can cover (RFC 8785).
    const body = `{"redirect_uris":["${REDIRECT_URI}"],"client_name":"bad \\ud800 name"}`;
    const refused = await post('/register', body, { 'content-type': 'application/json' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_client_metadata' });
    // A paired surrogate is fine, and the followers (projections) still follow: the client just
    // registered can start a flow at once.
    const config = await client.dynamicClientRegistration(
      new URL(server.issuer),
      { redirect_uris: [REDIRECT_URI], client_name: 'ok \ud83d\ude00 name', token_endpoint_auth_method: 'client_secret_basic' },
      client.ClientSecretBasic(),
      clientOptions(),
    );
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: client.randomState() });
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('ok \ud83d\ude00 name');
  });

  it('a client_name is HTML-escaped on the login and consent pages', async () => {
    const name = '<img src=x onerror="alert(1)">';
    const config = await client.dynamicClientRegistration(
      new URL(server.issuer),
      { client_name: name, redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: SCOPE },
      client.ClientSecretBasic(),
      clientOptions(),
    );
    const authorization = await authorize(config, new Browser());
    const [login, consent] = authorization.result.pages;
    for (const page of [login!, consent!]) {
      expect(page.body).not.toContain(name);
      expect(page.body).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
    }
  });

  describe('registration with IDP_INITIAL_ACCESS_TOKEN', () => {
    const initialAccessToken = randomBytes(24).toString('base64url');
    let guarded: IdpUnderTest | undefined;

    beforeAll(async () => {
      guarded = await start({
        user: { username: USERNAME, password: PASSWORD },
        initialAccessToken,
        env: { IDP_RESOURCE_SERVERS: RESOURCE_SERVERS, IDP_TRUST_PROXY: TEST_PROXY },
      });
    }, 90_000);

    afterAll(async () => {
      await guarded?.stop();
    }, 60_000);

    it('requires that bearer token: 401 without it or with a wrong one, 201 with it', async () => {
      const { issuer } = guarded!;
      const metadata = JSON.stringify({ redirect_uris: [REDIRECT_URI], client_name: 'guarded' });
      const json = { 'content-type': 'application/json' };

      const without = await post('/register', metadata, json, issuer);
      expect(without.status).toBe(401);
      expect(without.body).toEqual({}); // RFC 6750 §3.1: no error information without credentials
      expect(without.headers.get('www-authenticate')).toMatch(/^Bearer /);

      const wrong = await post('/register', metadata, { ...json, authorization: 'Bearer not-the-token' }, issuer);
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ error: 'invalid_token' });
      expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);

      const allowed = await post('/register', metadata, { ...json, authorization: `Bearer ${initialAccessToken}` }, issuer);
      expect(allowed.status).toBe(201);
      expect(allowed.body).toMatchObject({
        client_id: expect.any(String),
        client_secret: expect.any(String),
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      expect(allowed.headers.get('cache-control')).toBe('no-store');

      // And through openid-client's RFC 7591 support.
      const config = await client.dynamicClientRegistration(
        new URL(issuer),
        { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' },
        client.None(),
        { ...clientOptions(), initialAccessToken },
      );
      expect(config.clientMetadata().client_id).toEqual(expect.any(String));
      await expect(
        client.dynamicClientRegistration(new URL(issuer), { redirect_uris: [REDIRECT_URI] }, undefined, clientOptions()),
      ).rejects.toMatchObject({ status: 401 });
    });

    it('a registration request without any token gets a Bearer challenge with no error code (RFC 6750 §3.1)', async () => {
      const response = await post('/register', JSON.stringify({ redirect_uris: [REDIRECT_URI] }), { 'content-type': 'application/json' }, guarded!.issuer);
      expect(response.status).toBe(401);
      const challenge = response.headers.get('www-authenticate');
      expect(challenge).toMatch(/^Bearer /);
      expect(challenge).not.toMatch(/error=/);
    });

    describeClientAddress(() => guarded!, initialAccessToken, { username: USERNAME, password: PASSWORD });
    describeBrowserFlows(() => guarded!, initialAccessToken, { username: USERNAME, password: PASSWORD });
    describeTokenEndpointNegatives(() => guarded!, initialAccessToken, { username: USERNAME, password: PASSWORD });
    // Last here: its throttle test leaves the user locked out for a while.
    describeTrustedClientGrants(() => guarded!, initialAccessToken, { username: USERNAME, password: PASSWORD });
  });

  it('a wrong password re-renders the login form with 401, sets no session and does not redirect', async () => {
    const config = await registerClient('client_secret_basic');
    const browser = new Browser();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: SCOPE, state: client.randomState() });
    const loginPage = await browser.get(url);
    expect(loginPage.status).toBe(200);
    expect(loginPage.kind).toBe('login');
    let rid = hiddenRid(loginPage.body);

    for (const credentials of [
      { username: USERNAME, password: `${PASSWORD}-wrong` },
      { username: `${USERNAME}-nobody`, password: PASSWORD },
    ]) {
      const failed = await browser.postForm(`${server.issuer}/authorize/login`, { rid, ...credentials });
      expect(failed.status).toBe(401);
      expect(failed.kind).toBe('login');
      expect(failed.location).toBeNull();
      expect(failed.body).toContain('Invalid username or password');
      expect(failed.body).not.toContain(credentials.password);
      expect(browser.cookie('idp_session')).toBeUndefined();
      rid = hiddenRid(failed.body);
    }

    // The re-rendered form still works with the right password.
    const retried = await browser.postForm(`${server.issuer}/authorize/login`, {
      rid,
      username: USERNAME,
      password: PASSWORD,
    });
    expect(retried.status).toBe(200);
    expect(retried.kind).toBe('consent');
    expect(browser.cookie('idp_session')).toBeDefined();
  });
  describeAuthorizationHoles(() => server, { username: USERNAME, password: PASSWORD });
  describeTokenIntrospection(() => server, { username: USERNAME, password: PASSWORD });
  describeTokenRevocation(() => server, { username: USERNAME, password: PASSWORD });
  describeClientManagement(() => server, { username: USERNAME, password: PASSWORD }, { adminBus: topology === 'distributed' });
  describeClientCredentials(() => server);
  describeRefreshTokens(() => server, { username: USERNAME, password: PASSWORD });
  describePages(() => server, { username: USERNAME, password: PASSWORD });
  describeRpInitiatedLogout(() => server, { username: USERNAME, password: PASSWORD });
  describeUserClaims(() => server, { username: USERNAME, password: PASSWORD, claims: E2E_USER_CLAIMS });
  describeOidcRequestParameters(() => server, { username: USERNAME, password: PASSWORD, claims: E2E_USER_CLAIMS });
  hooks.afterFlows?.(() => server);
  // Last: after every flow, the log rebuilds the live state exactly.
  describeRebuildVerify(() => server);
});
}
