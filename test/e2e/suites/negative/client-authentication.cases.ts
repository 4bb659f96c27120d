import { clientIdOf, secretOf } from './fixtures.js';
import { basicHeader, basicOf, postForm, postOf, type NegativeCase } from './negative-case.js';

/**
 * Client authentication at the token endpoint (RFC 6749 §2.3, §5.2): every failure is 401
 * `invalid_client` with a `WWW-Authenticate` challenge (required when the client tried HTTP
 * Basic, sent on every 401 here), whatever part was wrong; nothing is appended.
 */
const CHALLENGE = { 'www-authenticate': /^Basic realm="idp"$/ };
const invalidClient = { status: 401, error: 'invalid_client', headers: CHALLENGE };
const grant = { grant_type: 'client_credentials' };

export const clientAuthenticationCases: NegativeCase[] = [
  {
    name: 'an unknown client with HTTP Basic',
    send: (fx) => postForm(fx, '/token', grant, { basic: { id: 'no-such-client', secret: 'whatever' } }),
    expect: invalidClient,
  },
  {
    name: 'an unknown client with client_secret_post',
    send: (fx) => postForm(fx, '/token', grant, { post: { id: 'no-such-client', secret: 'whatever' } }),
    expect: invalidClient,
  },
  {
    name: 'an unknown public client (client_id alone)',
    send: (fx) => postForm(fx, '/token', { grant_type: 'authorization_code', code: 'x' }, { id: 'no-such-client' }),
    expect: invalidClient,
  },
  {
    name: 'a wrong secret with HTTP Basic',
    send: (fx) => postForm(fx, '/token', grant, { basic: { id: clientIdOf(fx.machine), secret: `${secretOf(fx.machine)}x` } }),
    expect: invalidClient,
  },
  {
    name: 'a wrong secret with client_secret_post',
    send: (fx) => postForm(fx, '/token', grant, { post: { id: clientIdOf(fx.postMachine), secret: `${secretOf(fx.postMachine)}x` } }),
    expect: invalidClient,
  },
  {
    name: 'the secret of another client',
    send: (fx) => postForm(fx, '/token', grant, { basic: { id: clientIdOf(fx.machine), secret: secretOf(fx.app) } }),
    expect: invalidClient,
  },
  {
    name: 'a client_secret_basic client authenticating with client_secret_post (right secret)',
    send: (fx) => postForm(fx, '/token', grant, postOf(fx.machine)),
    expect: invalidClient,
  },
  {
    name: 'a client_secret_post client authenticating with HTTP Basic (right secret)',
    send: (fx) => postForm(fx, '/token', grant, basicOf(fx.postMachine)),
    expect: invalidClient,
  },
  {
    name: 'a public client sending a client_secret in the body',
    send: (fx) => postForm(fx, '/token', { grant_type: 'authorization_code', code: 'x' }, { post: { id: clientIdOf(fx.spa), secret: 'invented' } }),
    expect: invalidClient,
  },
  {
    name: 'a public client sending HTTP Basic credentials',
    send: (fx) => postForm(fx, '/token', { grant_type: 'authorization_code', code: 'x' }, { basic: { id: clientIdOf(fx.spa), secret: 'invented' } }),
    expect: invalidClient,
  },
  {
    name: 'a confidential client sending no secret (client_id alone)',
    send: (fx) => postForm(fx, '/token', grant, { id: clientIdOf(fx.machine) }),
    expect: invalidClient,
  },
  {
    name: 'no client authentication at all',
    send: (fx) => postForm(fx, '/token', grant, 'anonymous'),
    expect: invalidClient,
  },
  {
    name: 'HTTP Basic and a client_secret in the body together (two methods, RFC 6749 §2.3)',
    send: (fx) => postForm(fx, '/token', { ...grant, client_secret: secretOf(fx.machine) }, basicOf(fx.machine)),
    expect: { status: 400, error: 'invalid_request' },
  },
  {
    name: 'HTTP Basic naming one client and a client_id in the body naming another',
    send: (fx) => postForm(fx, '/token', { ...grant, client_id: clientIdOf(fx.postMachine) }, basicOf(fx.machine)),
    expect: { status: 400, error: 'invalid_request' },
  },
  {
    name: 'HTTP Basic credentials without a colon',
    send: (fx) =>
      fetch(`${fx.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(clientIdOf(fx.machine)).toString('base64')}` },
        body: 'grant_type=client_credentials',
      }),
    expect: invalidClient,
  },
  {
    name: 'HTTP Basic credentials with a broken percent-encoding',
    send: (fx) =>
      fetch(`${fx.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('%E0%A4:x').toString('base64')}` },
        body: 'grant_type=client_credentials',
      }),
    expect: invalidClient,
  },
  {
    name: 'HTTP Basic credentials of 20 000 characters (over the 16 KiB header limit): 431 invalid_request',
    send: (fx) =>
      fetch(`${fx.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicHeader('c'.repeat(15_000), 's') },
        body: 'grant_type=client_credentials',
      }),
    expect: { status: 431, error: 'invalid_request' },
  },
  {
    name: 'an empty client_id (RFC 6749 §3.2: an empty parameter is an absent one)',
    send: (fx) => postForm(fx, '/token', grant, { post: { id: '', secret: 'whatever' } }),
    expect: invalidClient,
  },
  {
    name: 'an empty client_id in HTTP Basic',
    send: (fx) => postForm(fx, '/token', grant, { basic: { id: '', secret: 'whatever' } }),
    expect: invalidClient,
  },
  {
    name: 'a client_id of 4000 characters (no such client can exist)',
    send: (fx) => postForm(fx, '/token', grant, { post: { id: 'c'.repeat(4000), secret: 'whatever' } }),
    expect: invalidClient,
  },
];
