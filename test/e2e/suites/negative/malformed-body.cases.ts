import { machineToken, type Fixtures } from './fixtures.js';
import { basicHeaderOf, postRaw, type Expected, type NegativeCase, type Prepared } from './negative-case.js';

/**
 * Bodies no client library sends, at every endpoint that takes one: the wrong media type,
 * repeated parameters (RFC 6749 §3.1), a body over the gateway's 64 KiB limit (Fastify
 * `bodyLimit`), text that is not UTF-8 or not percent-encoded (RFC 6749 Appendix B), one huge
 * parameter under the limit, prototype keys. Each is an OAuth error JSON (or the RFC's own
 * answer for an invalid token), never a 5xx or a page, and nothing reaches the log.
 */
const BODY_LIMIT = 64 * 1024;
const invalidRequest = (status = 400): Expected => ({ status, error: 'invalid_request' });
const utf8 = (text: string) => new TextEncoder().encode(text);
const FORM = 'application/x-www-form-urlencoded';
const encode = (form: [string, string][]) => new URLSearchParams(form).toString();
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((part) => [...part]));

interface FormEndpoint {
  path: string;
  /** A well-formed request's parameters, which each variant then breaks. */
  parameters: (p: Prepared) => [string, string][];
  prepare?: (fx: Fixtures) => Promise<Prepared>;
  /** The parameter made huge (60 KB, under the limit), and the RFC's answer to that. */
  huge: { parameter: string; expect: Expected };
}

const FORM_ENDPOINTS: FormEndpoint[] = [
  {
    path: '/token',
    parameters: () => [['grant_type', 'client_credentials'], ['scope', 'orders:read']],
    // RFC 6749 §5.2: a malformed scope is invalid_scope.
    huge: { parameter: 'scope', expect: { status: 400, error: 'invalid_scope' } },
  },
  {
    path: '/revoke',
    prepare: async (fx) => ({ token: await machineToken(fx) }),
    parameters: (p) => [['token', p.token!], ['token_type_hint', 'access_token']],
    // RFC 7009 §2.2: an invalid token is not an error.
    huge: { parameter: 'token', expect: { status: 200, body: undefined } },
  },
  {
    path: '/introspect',
    prepare: async (fx) => ({ token: await machineToken(fx) }),
    parameters: (p) => [['token', p.token!]],
    // RFC 7662 §2.2: a token that cannot be ours is simply inactive.
    huge: { parameter: 'token', expect: { status: 200, body: { active: false } } },
  },
];

type Body = { contentType?: string; body: string | Uint8Array };

/** Ways to break a well-formed form body, and what the server must answer. */
const FORM_VARIANTS: { name: string; body: (form: [string, string][]) => Body; expect: Expected }[] = [
  { name: 'as text/plain', body: (form) => ({ contentType: 'text/plain', body: encode(form) }), expect: invalidRequest() },
  {
    name: 'as JSON where a form is expected',
    body: (form) => ({ contentType: 'application/json', body: JSON.stringify(Object.fromEntries(form)) }),
    expect: invalidRequest(),
  },
  {
    name: 'as multipart/form-data',
    body: (form) => ({
      contentType: 'multipart/form-data; boundary=b0undary',
      body: `${form.map(([k, v]) => `--b0undary\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('')}--b0undary--\r\n`,
    }),
    expect: invalidRequest(400),
  },
  { name: 'without a content type', body: (form) => ({ body: utf8(encode(form)) }), expect: invalidRequest(400) },
  {
    name: 'with its first parameter repeated',
    body: (form) => ({ contentType: FORM, body: encode([...form, form[0]!]) }),
    expect: invalidRequest(),
  },
  {
    name: `over the ${BODY_LIMIT / 1024} KiB body limit`,
    body: (form) => ({ contentType: FORM, body: encode([...form, ['padding', 'p'.repeat(BODY_LIMIT)]]) }),
    expect: invalidRequest(413),
  },
  { name: 'with a broken percent-encoding (%ZZ)', body: (form) => ({ contentType: FORM, body: `${encode(form)}&state=%ZZ` }), expect: invalidRequest() },
  { name: 'with a truncated percent-encoding at its end', body: (form) => ({ contentType: FORM, body: `${encode(form)}&state=%E` }), expect: invalidRequest() },
  {
    name: 'with percent-encoded bytes that are not UTF-8 (%FF%FE)',
    body: (form) => ({ contentType: FORM, body: `${encode(form)}&state=%FF%FE` }),
    expect: invalidRequest(),
  },
  {
    name: 'with a percent-encoded overlong UTF-8 sequence (%C0%AF)',
    body: (form) => ({ contentType: FORM, body: `${encode(form)}&state=%C0%AF` }),
    expect: invalidRequest(),
  },
  {
    name: 'with a percent-encoded UTF-16 surrogate (%ED%A0%80)',
    body: (form) => ({ contentType: FORM, body: `${encode(form)}&state=%ED%A0%80` }),
    expect: invalidRequest(),
  },
  {
    name: 'with raw bytes that are not UTF-8',
    body: (form) => ({ contentType: FORM, body: concat(utf8(`${encode(form)}&state=`), Uint8Array.of(0xff, 0xfe, 0x41)) }),
    expect: invalidRequest(),
  },
  {
    name: 'with a __proto__ parameter',
    body: (form) => ({ contentType: FORM, body: `${encode(form)}&__proto__=x` }),
    expect: invalidRequest(),
  },
];

const formCases: NegativeCase[] = FORM_ENDPOINTS.flatMap((endpoint) => {
  const send = (fx: Fixtures, { contentType, body }: Body) =>
    postRaw(fx, endpoint.path, { authorization: basicHeaderOf(fx.machine), ...(contentType ? { 'content-type': contentType } : {}) }, body);
  const withPrepare = endpoint.prepare ? { prepare: endpoint.prepare } : {};
  return [
    ...FORM_VARIANTS.map(
      (variant): NegativeCase => ({
        name: `${endpoint.path} ${variant.name}`,
        ...withPrepare,
        send: (fx, p) => send(fx, variant.body(endpoint.parameters(p))),
        expect: variant.expect,
      }),
    ),
    {
      name: `${endpoint.path} with a ${endpoint.huge.parameter} of 60 000 characters (under the body limit)`,
      ...withPrepare,
      send: (fx, p) => {
        const form = endpoint.parameters(p).filter(([name]) => name !== endpoint.huge.parameter);
        return send(fx, { contentType: FORM, body: encode([...form, [endpoint.huge.parameter, 'a'.repeat(60_000)]]) });
      },
      expect: endpoint.huge.expect,
    },
  ];
});

/** Dynamic registration (RFC 7591 §3.1) takes JSON: the same abuse, JSON's way. */
const metadata = { redirect_uris: ['https://rp.example.test/negative-cb'], client_name: 'malformed' };
const JSON_TYPE = 'application/json';
const registerWith = (fx: Fixtures, contentType: string | undefined, body: string | Uint8Array) =>
  postRaw(fx, '/register', { authorization: `Bearer ${fx.initialAccessToken}`, ...(contentType ? { 'content-type': contentType } : {}) }, body);
const withName = (bytes: Uint8Array) =>
  concat(utf8(`{"redirect_uris":["https://rp.example.test/negative-cb"],"client_name":"bad `), bytes, utf8('"}'));

const registrationCases: NegativeCase[] = [
  {
    name: '/register with a form where JSON is expected',
    send: (fx) => registerWith(fx, FORM, 'redirect_uris=https%3A%2F%2Frp.example.test%2Fnegative-cb'),
    expect: { status: 400, error: 'invalid_client_metadata' },
  },
  { name: '/register as text/plain', send: (fx) => registerWith(fx, 'text/plain', JSON.stringify(metadata)), expect: { status: 400, error: 'invalid_client_metadata' } },
  { name: '/register without a content type', send: (fx) => registerWith(fx, undefined, utf8(JSON.stringify(metadata))), expect: invalidRequest(400) },
  { name: '/register with truncated JSON', send: (fx) => registerWith(fx, JSON_TYPE, JSON.stringify(metadata).slice(0, -3)), expect: invalidRequest() },
  { name: '/register with a JSON array', send: (fx) => registerWith(fx, JSON_TYPE, JSON.stringify([metadata])), expect: { status: 400, error: 'invalid_client_metadata' } },
  {
    name: `/register over the ${BODY_LIMIT / 1024} KiB body limit`,
    send: (fx) => registerWith(fx, JSON_TYPE, JSON.stringify({ ...metadata, padding: 'p'.repeat(BODY_LIMIT) })),
    expect: invalidRequest(413),
  },
  { name: '/register with raw bytes that are not UTF-8 in a string', send: (fx) => registerWith(fx, JSON_TYPE, withName(Uint8Array.of(0xff, 0xfe))), expect: invalidRequest() },
  { name: '/register with an overlong UTF-8 sequence', send: (fx) => registerWith(fx, JSON_TYPE, withName(Uint8Array.of(0xc0, 0xaf))), expect: invalidRequest() },
  {
    name: '/register with an escaped lone UTF-16 surrogate',
    send: (fx) => registerWith(fx, JSON_TYPE, JSON.stringify(metadata).replace('malformed', 'bad \\udc00')),
    expect: { status: 400, error: 'invalid_client_metadata' },
  },
  {
    name: '/register with a client_name of 60 000 characters (under the body limit)',
    send: (fx) => registerWith(fx, JSON_TYPE, JSON.stringify({ ...metadata, client_name: 'n'.repeat(60_000) })),
    expect: { status: 400, error: 'invalid_client_metadata' },
  },
  {
    name: '/register with a __proto__ member',
    send: (fx) => registerWith(fx, JSON_TYPE, `{"__proto__":{"grant_types":["password"]},${JSON.stringify(metadata).slice(1)}`),
    expect: invalidRequest(),
  },
];

export const malformedBodyCases: NegativeCase[] = [...formCases, ...registrationCases];
