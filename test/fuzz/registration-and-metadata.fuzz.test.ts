import fc from 'fast-check';
import { startFuzzWorld, type FuzzWorld } from '../support/fuzz/fuzz-world.js';
import { junkPathSegment, junkText, requestsFor, tokenLike, type ParamSpace } from '../support/fuzz/requests.js';
import { percentEncode } from '../support/fuzz/primitives.js';
import { fuzzEndpoint, fuzzScenario } from '../support/fuzz/run-fuzz.js';

/**
 * Fuzzing registration and everything else the gateway serves (issue 10, "Fuzzing"): dynamic
 * registration (RFC 7591) with hostile metadata, the client configuration endpoint (RFC 7592
 * GET, PUT, DELETE) with real and junk client ids and registration access tokens, discovery,
 * the JWKS, health and metrics, unknown paths and methods, CORS preflights. The properties are
 * in run-fuzz.ts.
 */
let world: FuzzWorld;
beforeAll(async () => {
  world = await startFuzzWorld();
}, 90_000);
afterAll(async () => {
  await world?.stop();
}, 30_000);

const uri = () =>
  fc.oneof(
    fc.constantFrom(
      'https://rp.example/cb',
      'http://127.0.0.1:9/cb',
      'http://localhost/cb',
      'https://rp.example/cb#frag',
      'javascript:alert(1)',
      'data:text/html,x',
      'com.example.app:/cb',
      'https://user:pass@rp.example/',
      'https://rp.example/\u0000',
      'https://[::1]:99999/',
      '',
    ),
    junkText,
  );
const listOf = <T>(item: fc.Arbitrary<T>) => fc.oneof(fc.array(item, { maxLength: 4 }), item, fc.constant(null));
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'password', 'implicit', 'junk'];
const RESPONSE_TYPES = ['code', 'id_token', 'code id_token', 'token', 'none', 'junk'];

/** RFC 7591 §2 client metadata, each member plausible, junk, or of the wrong JSON type. */
const metadata = (): fc.Arbitrary<Record<string, unknown>> => {
  const member = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
  return fc.record(
    {
      redirect_uris: member(listOf(uri())),
      post_logout_redirect_uris: member(listOf(uri())),
      backchannel_logout_uri: member(uri()),
      backchannel_logout_session_required: member(fc.boolean()),
      grant_types: member(listOf(fc.constantFrom(...GRANT_TYPES))),
      response_types: member(listOf(fc.constantFrom(...RESPONSE_TYPES))),
      token_endpoint_auth_method: member(fc.constantFrom('client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt', 'tls_client_auth', 'junk')),
      scope: member(fc.constantFrom('openid', 'openid profile offline_access', 'orders:read', 'openid\u0000', '')),
      client_name: member(junkText),
      'client_name#de': member(junkText),
      'client_name#<script>': member(junkText),
      client_uri: member(uri()),
      logo_uri: member(uri()),
      tos_uri: member(uri()),
      policy_uri: member(uri()),
      contacts: member(listOf(junkText)),
      jwks_uri: member(uri()),
      jwks: member(fc.record({ keys: listOf(fc.jsonValue({ maxDepth: 2 })) })),
      software_id: member(junkText),
      software_statement: member(tokenLike),
      subject_type: member(fc.constantFrom('public', 'pairwise')),
      id_token_signed_response_alg: member(fc.constantFrom('RS256', 'none', 'HS256')),
      default_max_age: member(fc.oneof(fc.integer(), fc.double())),
      require_auth_time: member(fc.boolean()),
      client_id: member(junkText),
      client_secret: member(junkText),
      rotate_client_secret: member(fc.boolean()),
      registration_access_token: member(junkText),
      __proto__: fc.constant({ polluted: true }),
    },
    { requiredKeys: [] },
  );
};
const goodMetadata = () =>
  fc.record({
    redirect_uris: fc.constant(['https://rp.example/cb']),
    token_endpoint_auth_method: fc.constantFrom('none', 'client_secret_basic'),
    client_name: junkText,
    scope: fc.constantFrom('openid', 'openid profile'),
  });

const bearer = (token: string) => fc.constant(`Bearer ${token}`);

describe('fuzzing registration, client configuration and the metadata endpoints of the embedded server', () => {
  test('POST /register: hostile metadata, bodies and headers', async () => {
    await fuzzEndpoint(
      world,
      requestsFor({
        methods: ['POST', 'POST', 'POST', 'GET'],
        path: fc.constant('/register'),
        json: fc.oneof(metadata(), goodMetadata()),
        bodyKinds: ['json', 'json', 'json', 'json', 'form', 'bytes', 'none', 'oversized'],
      }),
      { seed: 0x7e61, numRuns: 300 },
    );
  }, 120_000);

  test('GET, PUT and DELETE /register/:id: real and junk client ids, registration access tokens and metadata', async () => {
    // A client of its own: the fuzzer may well delete it or rotate its secret.
    const registered = (await (
      await fetch(`${world.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://rp.example/cb'], token_endpoint_auth_method: 'client_secret_basic', client_name: 'Fuzzed' }),
      })
    ).json()) as { client_id: string; registration_access_token: string };
    const ids = [registered.client_id, world.client.id, 'demo'];
    await fuzzEndpoint(
      world,
      requestsFor({
        methods: ['GET', 'GET', 'PUT', 'PUT', 'PUT', 'DELETE', 'POST', 'PATCH'],
        path: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...ids).map((id) => `/register/${encodeURIComponent(id)}`) },
          { weight: 1, arbitrary: junkPathSegment.map((segment) => `/register/${segment}`) },
          { weight: 1, arbitrary: fc.constantFrom(...ids).chain((id) => junkPathSegment.map((segment) => `/register/${id}/${segment}`)) },
        ),
        json: fc.oneof(metadata(), goodMetadata()),
        bodyKinds: ['none', 'json', 'json', 'json', 'form', 'bytes', 'oversized'],
        authorization: fc.oneof(
          { weight: 3, arbitrary: bearer(registered.registration_access_token) },
          { weight: 1, arbitrary: bearer(world.client.registrationAccessToken) },
        ),
      }),
      { seed: 0x7e62, numRuns: 300 },
    );
  }, 120_000);

  test('registered, then used: odd redirect and post-logout URIs in the redirects, form_post pages and logout of /authorize and /logout', async () => {
    const oddUri = fc
      .record({
        scheme: fc.oneof({ weight: 6, arbitrary: fc.constant('https') }, { weight: 1, arbitrary: fc.constantFrom('http', 'com.example.app', 'HTTPS') }),
        host: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('rp.example', '127.0.0.1', '[::1]', 'localhost:8443', 'RP.EXAMPLE.', 'xn--nxasmq6b.example') },
          { weight: 1, arbitrary: junkText },
        ),
        path: junkText,
        query: fc.option(junkText, { nil: undefined }),
      })
      .map(({ scheme, host, path, query }) => `${scheme}://${host}/${path}${query === undefined ? '' : `?${query}`}`);
    const scenarios = fc.record({
      redirectUri: fc.oneof({ weight: 5, arbitrary: oddUri }, { weight: 1, arbitrary: uri() }),
      postLogoutUri: fc.oneof({ weight: 5, arbitrary: oddUri }, { weight: 1, arbitrary: uri() }),
      responseType: fc.constantFrom('code', 'code', 'id_token', 'code id_token'),
      responseMode: fc.constantFrom('query', 'fragment', 'form_post', undefined),
      scope: fc.constantFrom('openid', 'openid bogus', 'profile'),
      state: junkText,
      prompt: fc.constantFrom('none', 'login', undefined),
      signedIn: fc.boolean(),
    });
    await fuzzScenario(
      world,
      scenarios,
      async (s, send) => {
        const implicit = s.responseType !== 'code';
        const registration = await send({
          method: 'POST',
          target: '/register',
          headers: [['Content-Type', 'application/json']],
          body: Buffer.from(
            JSON.stringify({
              redirect_uris: [s.redirectUri],
              post_logout_redirect_uris: [s.postLogoutUri],
              token_endpoint_auth_method: 'none',
              ...(implicit ? { response_types: ['code', s.responseType], grant_types: ['authorization_code', 'implicit'] } : {}),
            }),
          ),
        });
        if (registration.status !== 201) return;
        const clientId = (JSON.parse(registration.body) as { client_id: string }).client_id;
        const query = (params: Record<string, string | undefined>) =>
          Object.entries(params)
            .filter((entry): entry is [string, string] => entry[1] !== undefined)
            .map(([name, value]) => `${name}=${percentEncode(value)}`)
            .join('&');
        const cookie: Array<[string, string]> = s.signedIn ? [['Cookie', world.sessionCookie]] : [];
        await send({
          method: 'GET',
          target: `/authorize?${query({
            client_id: clientId,
            redirect_uri: s.redirectUri,
            response_type: s.responseType,
            response_mode: s.responseMode,
            scope: s.scope,
            state: s.state,
            nonce: 'n',
            prompt: s.prompt,
            code_challenge: world.codeChallenge,
            code_challenge_method: 'S256',
          })}`,
          headers: cookie,
        });
        await send({
          method: 'GET',
          target: `/logout?${query({ client_id: clientId, post_logout_redirect_uri: s.postLogoutUri, state: s.state })}`,
          headers: [],
        });
      },
      { seed: 0x7e64, numRuns: 120 },
    );
  }, 120_000);

  test('discovery, JWKS, health, metrics, unknown paths and methods, CORS preflights', async () => {
    const anything: ParamSpace = { x: junkText, client_id: junkText, format: fc.constantFrom('json', 'xml') };
    await fuzzEndpoint(
      world,
      requestsFor({
        methods: ['GET', 'GET', 'GET', 'HEAD', 'OPTIONS', 'OPTIONS', 'POST', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'CONNECT', 'PROPFIND', 'G3T'],
        path: fc.oneof(
          fc.constantFrom(
            '/.well-known/openid-configuration',
            '/.well-known/oauth-authorization-server',
            '/.well-known/webfinger',
            '/jwks',
            '/healthz',
            '/readyz',
            '/metrics',
            '/',
            '*',
            '/token/',
            '//token',
            '/TOKEN',
            '/.well-known/openid-configuration/',
            '/%2e%2e/',
            '/jwks%00',
          ),
          junkPathSegment.map((segment) => `/${segment}`),
          junkPathSegment.map((segment) => `/.well-known/${segment}`),
          fc.constantFrom('http://127.0.0.1/jwks', 'https://evil.example/', '/a'.repeat(2000)),
        ),
        query: anything,
        body: anything,
        bodyKinds: ['none', 'none', 'form', 'json', 'bytes', 'oversized'],
      }),
      { seed: 0x7e63, numRuns: 250 },
    );
  }, 120_000);
});
