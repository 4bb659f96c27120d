import fc from 'fast-check';
import { startFuzzWorld, type FuzzWorld } from '../support/fuzz/fuzz-world.js';
import { junkPathSegment, junkText, jwtLike, requestsFor, type ParamSpace } from '../support/fuzz/requests.js';
import { fuzzEndpoint, fuzzScenario } from '../support/fuzz/run-fuzz.js';

/**
 * Fuzzing the endpoints a browser talks to (issue 10, "Fuzzing"): the authorization endpoint
 * (GET and POST), its login and consent forms, RP-initiated logout and its confirmation, and the
 * demo callback, against the embedded server and its SQLite log. What each run must hold is in
 * run-fuzz.ts: no 5xx, an answer to everything, nothing appended by a refusal, alive afterwards.
 */
let world: FuzzWorld;
beforeAll(async () => {
  world = await startFuzzWorld();
}, 90_000);
afterAll(async () => {
  await world?.stop();
}, 30_000);

const authorizeParams = (w: FuzzWorld): ParamSpace => ({
  response_type: fc.constantFrom('code', 'id_token', 'token', 'code id_token', 'code token', 'id_token token', 'code id_token token', 'none', 'code code', 'CODE'),
  client_id: fc.constantFrom(w.client.id, 'demo', 'unknown-client'),
  redirect_uri: fc.constantFrom(w.redirectUri, `${w.redirectUri}?x=1`, `${w.redirectUri}#f`, 'https://evil.example/cb', 'javascript:alert(1)', '/relative'),
  scope: fc.constantFrom('openid', 'openid profile offline_access', 'profile', 'openid openid', 'openid  email', 'openid unknown'),
  state: junkText,
  nonce: junkText,
  code_challenge: fc.constantFrom(w.codeChallenge, 'short', 'A'.repeat(43), 'A'.repeat(129)),
  code_challenge_method: fc.constantFrom('S256', 'plain', 's256', ''),
  response_mode: fc.constantFrom('query', 'fragment', 'form_post', 'jwt', 'query.jwt', 'web_message'),
  prompt: fc.constantFrom('none', 'login', 'consent', 'select_account', 'none login', 'create', 'login consent'),
  max_age: fc.constantFrom('0', '-1', '1e3', '99999999999999999999', '3600', ' 5', '0x10'),
  ui_locales: fc.constantFrom('de', 'fr en', 'xx', '', 'de-DE-u-co-phonebk', '*'),
  claims: fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.constantFrom(
      '{"id_token":{"acr":{"essential":true,"values":["urn:x"]}},"userinfo":{"email":null}}',
      '{"userinfo":{"__proto__":{"essential":true}}}',
      '{"id_token":{"auth_time":{"value":1,"values":[1,2]}}}',
      '{"id_token":{"name#de":null}}',
    ),
  ),
  claims_locales: fc.constantFrom('de fr', 'xx', ''),
  acr_values: fc.constantFrom('urn:x', '0 1', ''),
  login_hint: junkText,
  id_token_hint: fc.oneof(jwtLike, fc.constant(w.tokens.idToken)),
  request: jwtLike,
  request_uri: fc.constantFrom('urn:ietf:params:oauth:request_uri:x', 'https://evil.example/r'),
  display: fc.constantFrom('page', 'popup', 'touch', 'wap', 'x'),
  resource: fc.constantFrom('https://api.example', 'urn:x', 'relative'),
});

const authorizeBaseline = (w: FuzzWorld) => ({
  response_type: 'code',
  client_id: w.client.id,
  redirect_uri: w.redirectUri,
  scope: 'openid profile offline_access',
  state: 'fuzz-state',
  nonce: 'fuzz-nonce',
  code_challenge: w.codeChallenge,
  code_challenge_method: 'S256',
});

// A wrong password at the login form is a fact worth recording: `authentication.failed`.
const failedLoginMayAppend = () => ['authentication.failed'];

describe('fuzzing the browser-facing endpoints of the embedded server', () => {
  test('the properties can fail: a refusal that appends (a wrong password) is caught unless allowed', async () => {
    const wrongPassword = {
      method: 'POST',
      target: '/authorize/login',
      headers: [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['Cookie', `idp_authz=${world.atLogin.authz}`],
      ] as Array<[string, string]>,
      body: `rid=${encodeURIComponent(world.atLogin.rid)}&username=demo&password=wrong`,
    };
    const once = { seed: 1, numRuns: 1 };
    const scenario = async (_: unknown, send: (r: typeof wrongPassword) => Promise<{ status: number }>) => {
      expect((await send(wrongPassword)).status).toBe(401);
    };
    // fast-check reports the property's own error as the cause of its failure.
    const failure = await fuzzScenario(world, fc.constant(null), scenario, once).then(
      () => undefined,
      (error: unknown) => error as Error & { cause?: Error },
    );
    expect(failure?.cause?.message).toMatch(/a refused request \(401\) appended authentication\.failed/);
    await fuzzScenario(world, fc.constant(null), scenario, { ...once, mayAppend: failedLoginMayAppend });
  }, 60_000);

  test('GET and POST /authorize: hostile queries, forms, cookies and headers', async () => {
    await fuzzEndpoint(
      world,
      requestsFor({
        methods: ['GET', 'GET', 'POST'],
        path: fc.constant('/authorize'),
        query: authorizeParams(world),
        body: authorizeParams(world),
        baseline: authorizeBaseline(world),
        bodyKinds: ['none', 'form', 'form', 'json', 'bytes', 'oversized'],
        // Signed in or not: the login page, the consent page, or straight back to the client.
        cookieBaseline: fc.constantFrom(world.sessionCookie, ''),
        cookies: { idp_session: fc.constant(world.sessionCookie.split('=')[1]!), idp_authz: fc.constant(world.atLogin.authz) },
      }),
      { seed: 0x10a1, numRuns: 300 },
    );
  }, 120_000);

  const formSpace = (path: string, pending: { authz: string; rid: string }, form: ParamSpace, baseline: Record<string, string>) =>
    requestsFor({
      methods: ['POST', 'POST', 'POST', 'POST', 'GET'],
      path: fc.constant(path),
      query: { rid: form.rid! },
      body: form,
      baseline: { rid: pending.rid, ...baseline },
      bodyKinds: ['form', 'form', 'form', 'form', 'json', 'bytes', 'none', 'oversized'],
      cookieBaseline: fc.constantFrom(`idp_authz=${pending.authz}; ${world.sessionCookie}`, `idp_authz=${pending.authz}`),
      cookies: { idp_authz: fc.constantFrom(world.atLogin.authz, world.atConsent.authz), idp_session: fc.constant(world.sessionCookie.split('=')[1]!) },
    });
  const rids = () => fc.constantFrom(world.atLogin.rid, world.atConsent.rid, 'x'.repeat(65));

  test('POST /authorize/login: credentials and rids against real and junk pending requests', async () => {
    const form: ParamSpace = {
      rid: rids(),
      username: fc.oneof(junkText, fc.constant('demo')),
      password: fc.oneof(junkText, fc.constant('demo'), fc.constant('p'.repeat(1025))),
    };
    await fuzzEndpoint(world, formSpace('/authorize/login', world.atLogin, form, { username: 'demo', password: 'not-the-password' }), {
      seed: 0x10a2,
      numRuns: 250,
      mayAppend: failedLoginMayAppend,
    });
  }, 120_000);

  test('POST /authorize/consent: decisions and rids against real and junk pending requests and sessions', async () => {
    const form: ParamSpace = { rid: rids(), decision: fc.constantFrom('allow', 'deny', 'ALLOW', '') };
    await fuzzEndpoint(world, formSpace('/authorize/consent', world.atConsent, form, { decision: 'deny' }), { seed: 0x10a5, numRuns: 200 });
  }, 120_000);

  test('GET and POST /logout, POST /logout/confirm: junk hints, redirect URIs and confirmations', async () => {
    const logoutParams: ParamSpace = {
      id_token_hint: fc.oneof(jwtLike, fc.constant(world.tokens.idToken)),
      client_id: fc.constantFrom(world.client.id, 'demo', 'unknown-client'),
      post_logout_redirect_uri: fc.constantFrom(world.redirectUri, 'https://evil.example/', 'javascript:alert(1)'),
      state: junkText,
      ui_locales: fc.constantFrom('de', 'fr', 'xx'),
      logout_hint: junkText,
      confirmation: fc.oneof(junkText, jwtLike),
    };
    await fuzzEndpoint(
      world,
      requestsFor({
        methods: ['GET', 'POST'],
        path: fc.constantFrom('/logout', '/logout', '/logout/confirm'),
        query: logoutParams,
        body: logoutParams,
        baseline: { id_token_hint: world.tokens.idToken, client_id: world.client.id, post_logout_redirect_uri: world.redirectUri, state: 's' },
        bodyKinds: ['none', 'form', 'form', 'json', 'bytes', 'oversized'],
        // Junk session cookies only: a real one would end the session the other tests use.
      }),
      { seed: 0x10a3, numRuns: 300 },
    );
  }, 120_000);

  test('GET /demo/callback and junk paths below the browser endpoints', async () => {
    await fuzzEndpoint(
      world,
      requestsFor({
        methods: ['GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'],
        path: fc.oneof(
          fc.constantFrom('/demo/callback', '/authorize', '/logout'),
          junkPathSegment.map((segment) => `/authorize/${segment}`),
          junkPathSegment.map((segment) => `/demo/callback/${segment}`),
        ),
        query: { code: junkText, state: junkText, iss: junkText, error: junkText, error_description: junkText },
        bodyKinds: ['none', 'bytes'],
      }),
      { seed: 0x10a4, numRuns: 200 },
    );
  }, 120_000);
});
