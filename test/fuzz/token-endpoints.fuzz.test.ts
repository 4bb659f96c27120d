import fc from 'fast-check';
import { basicOf, startFuzzWorld, type FuzzWorld } from '../support/fuzz/fuzz-world.js';
import { junkText, jwtLike, requestsFor, tokenLike, type ParamSpace } from '../support/fuzz/requests.js';
import { fuzzEndpoint } from '../support/fuzz/run-fuzz.js';

/**
 * Fuzzing the back-channel endpoints (issue 10, "Fuzzing"): userinfo (GET and POST),
 * introspection, the token endpoint with every grant type, and revocation, against the embedded
 * server and its SQLite log, with the tokens of a real code flow mixed into the junk. The
 * properties are in run-fuzz.ts. Order matters: the token and revocation runs spend and revoke
 * the world's grant, so the runs that want it alive come first.
 */
let world: FuzzWorld;
beforeAll(async () => {
  world = await startFuzzWorld();
}, 90_000);
afterAll(async () => {
  await world?.stop();
}, 30_000);

const FORM_BODIES = ['form', 'form', 'form', 'form', 'json', 'bytes', 'none', 'oversized'] as const;
const goodBasic = () => fc.constant(basicOf(world.client.id, world.client.secret));
const realTokens = () => fc.constantFrom(world.tokens.accessToken, world.tokens.refreshToken, world.tokens.idToken);
const tokenParams = (): ParamSpace => ({
  token: fc.oneof(realTokens(), tokenLike),
  token_type_hint: fc.constantFrom('access_token', 'refresh_token', 'id_token', 'junk', ''),
  client_id: fc.constantFrom(world.client.id, 'demo', 'unknown-client'),
  client_secret: fc.constantFrom(world.client.secret, 'wrong'),
});

/**
 * Refusals that are facts: presenting a spent refresh token or code again is reuse, recorded
 * and answered by revoking the grant (RFC 9700 §4.14.2, RFC 6749 §4.1.2), before the 400.
 */
const reuseMayAppend = () => ['refresh_token.reuse_detected', 'authorization_code.replay_detected', 'grant.revoked'];

describe('fuzzing the back-channel endpoints of the embedded server', () => {
  test('GET and POST /userinfo: junk bearer tokens in the header and the form', async () => {
    await fuzzEndpoint(
      world,
      requestsFor({
        methods: ['GET', 'POST', 'POST'],
        path: fc.constant('/userinfo'),
        query: { access_token: fc.oneof(realTokens(), tokenLike) },
        body: { access_token: fc.oneof(realTokens(), tokenLike) },
        bodyKinds: ['none', 'none', 'form', 'json', 'bytes', 'oversized'],
        authorization: fc.oneof(
          fc.constant(`Bearer ${world.tokens.accessToken}`),
          realTokens().map((t) => `Bearer ${t}`),
          fc.constant(`bearer   ${world.tokens.accessToken}  `),
        ),
      }),
      { seed: 0x70c1, numRuns: 250 },
    );
  }, 120_000);

  test('POST /introspect: real and junk tokens and client credentials', async () => {
    await fuzzEndpoint(
      world,
      requestsFor({
        methods: ['POST', 'POST', 'POST', 'GET'],
        path: fc.constant('/introspect'),
        body: tokenParams(),
        baseline: { token: world.tokens.accessToken },
        bodyKinds: [...FORM_BODIES],
        authorization: goodBasic(),
        query: { token: tokenLike },
      }),
      { seed: 0x70c2, numRuns: 250 },
    );
  }, 120_000);

  test('POST /token: every grant type with real and junk codes, refresh tokens, credentials and resources', async () => {
    const params: ParamSpace = {
      grant_type: fc.constantFrom(
        'authorization_code',
        'refresh_token',
        'client_credentials',
        'password',
        'implicit',
        'urn:ietf:params:oauth:grant-type:device_code',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ),
      code: tokenLike,
      redirect_uri: fc.constantFrom(world.redirectUri, 'https://evil.example/cb'),
      code_verifier: fc.constantFrom('a'.repeat(43), 'short', 'a'.repeat(129), '~'.repeat(43)),
      refresh_token: fc.oneof(fc.constant(world.tokens.refreshToken), tokenLike),
      scope: fc.constantFrom('openid', 'openid profile', 'offline_access', 'openid admin', '', 'openid openid'),
      resource: fc.constantFrom('https://api.example', 'urn:x', 'relative', 'https://api.example#frag'),
      username: fc.oneof(junkText, fc.constant('demo')),
      password: fc.oneof(junkText, fc.constant('demo')),
      client_id: fc.constantFrom(world.client.id, 'demo', 'unknown-client'),
      client_secret: fc.constantFrom(world.client.secret, 'wrong'),
      client_assertion_type: fc.constantFrom('urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'junk'),
      client_assertion: jwtLike,
    };
    await fuzzEndpoint(
      world,
      requestsFor({
        methods: ['POST', 'POST', 'POST', 'POST', 'GET', 'PUT'],
        path: fc.constant('/token'),
        body: params,
        baseline: { grant_type: 'refresh_token', refresh_token: world.tokens.refreshToken, scope: 'openid' },
        bodyKinds: [...FORM_BODIES],
        authorization: goodBasic(),
        query: { grant_type: params.grant_type! },
      }),
      { seed: 0x70c3, numRuns: 350, mayAppend: reuseMayAppend },
    );
  }, 120_000);

  test('POST /revoke: real and junk tokens and client credentials', async () => {
    await fuzzEndpoint(
      world,
      requestsFor({
        methods: ['POST', 'POST', 'POST', 'DELETE'],
        path: fc.constant('/revoke'),
        body: tokenParams(),
        baseline: { token: world.tokens.refreshToken, token_type_hint: 'refresh_token' },
        bodyKinds: [...FORM_BODIES],
        authorization: goodBasic(),
      }),
      { seed: 0x70c4, numRuns: 200 },
    );
  }, 120_000);
});
