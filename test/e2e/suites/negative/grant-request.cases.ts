import * as client from 'openid-client';
import { GRANT_TYPES } from '../../../../contracts/grants/index.js';
import type { Fixtures } from './fixtures.js';
import { basicOf, postForm, refusedLibraryCall, type NegativeCase } from './negative-case.js';

/**
 * What an authenticated client asks for at the token endpoint (RFC 6749 §5.2, RFC 8707 §2):
 * grant types it may not use or that do not exist, scopes beyond what it may have, resources that
 * are no resource. Every refusal is 400 with its own code and appends nothing.
 */

/** A client that did not register `grantType`, for each grant type the server knows. */
function clientWithout(fx: Fixtures, grantType: string): client.Configuration {
  const candidates = [fx.machine, fx.codeOnly, fx.app];
  const found = candidates.find((config) => !(config.clientMetadata().grant_types as string[]).includes(grantType));
  if (!found) throw new Error(`every fixture client registered ${grantType}`);
  return found;
}

/** Plausible parameters for each grant, so only the registration can be what refuses it. */
const GRANT_PARAMETERS: Record<string, (fx: Fixtures) => Record<string, string>> = {
  authorization_code: () => ({ code: 'x.y', redirect_uri: 'https://rp.example.test/negative-cb' }),
  client_credentials: () => ({}),
  password: (fx) => ({ ...fx.user, scope: 'openid' }),
  refresh_token: () => ({ refresh_token: 'x.0.y' }),
};

const unauthorizedClientCases: NegativeCase[] = GRANT_TYPES.map((grantType) => ({
  name: `grant_type ${grantType} from a client that did not register it: unauthorized_client`,
  send: (fx) => {
    const parameters = GRANT_PARAMETERS[grantType];
    if (!parameters) throw new Error(`add the parameters of the new grant type ${grantType} to this table`);
    const config = clientWithout(fx, grantType);
    return postForm(fx, '/token', { grant_type: grantType, ...parameters(fx) }, basicOf(config));
  },
  expect: { status: 400, error: 'unauthorized_client' },
}));

const invalidScope = { status: 400, error: 'invalid_scope' };
const invalidTarget = { status: 400, error: 'invalid_target' };
const machineGrant = (fx: Fixtures, params: Record<string, string> | [string, string][]) => postForm(fx, '/token', params, basicOf(fx.machine));

export const grantRequestCases: NegativeCase[] = [
  {
    name: 'an unsupported grant_type (device code): unsupported_grant_type',
    send: (fx) => machineGrant(fx, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'x' }),
    expect: { status: 400, error: 'unsupported_grant_type' },
  },
  {
    name: 'an implicit grant_type at the token endpoint: unsupported_grant_type',
    send: (fx) => machineGrant(fx, { grant_type: 'implicit' }),
    expect: { status: 400, error: 'unsupported_grant_type' },
  },
  {
    name: 'grant_type in another case (Client_Credentials): unsupported_grant_type',
    send: (fx) => machineGrant(fx, { grant_type: 'Client_Credentials' }),
    expect: { status: 400, error: 'unsupported_grant_type' },
  },
  {
    name: 'an unsupported grant_type of non-ASCII, a quote, a backslash and a line break: the description keeps to RFC 6749 §5.2',
    send: (fx) => machineGrant(fx, { grant_type: 'gr\u00e4nt"\\\n\u202e\u{1F600}' }),
    expect: { status: 400, error: 'unsupported_grant_type' },
  },
  {
    name: 'an unsupported grant_type of 60 000 characters: the description does not echo it whole',
    send: (fx) => machineGrant(fx, { grant_type: 'g'.repeat(60_000) }),
    expect: { status: 400, error: 'unsupported_grant_type' },
  },
  {
    name: 'a repeated parameter whose name is not ASCII: invalid_request, the description keeps to RFC 6749 §5.2',
    send: (fx) =>
      machineGrant(fx, [
        ['grant_type', 'client_credentials'],
        ['n\u00e4me"', '1'],
        ['n\u00e4me"', '2'],
      ]),
    expect: { status: 400, error: 'invalid_request' },
  },
  {
    name: 'no grant_type: invalid_request',
    send: (fx) => machineGrant(fx, { scope: 'orders:read' }),
    expect: { status: 400, error: 'invalid_request' },
  },
  {
    name: 'an empty grant_type: invalid_request',
    send: (fx) => machineGrant(fx, { grant_type: '' }),
    expect: { status: 400, error: 'invalid_request' },
  },
  ...unauthorizedClientCases,
  {
    name: 'client credentials with an unknown scope: invalid_scope',
    send: (fx) => refusedLibraryCall(fx.machine, () => client.clientCredentialsGrant(fx.machine, { scope: 'payments:refund' })),
    expect: invalidScope,
  },
  {
    name: 'client credentials with an API scope beyond the registration: invalid_scope',
    send: (fx) => refusedLibraryCall(fx.machine, () => client.clientCredentialsGrant(fx.machine, { scope: 'orders:read orders:write' })),
    expect: invalidScope,
  },
  {
    name: 'client credentials with a user scope it registered (profile): invalid_scope, there is no user',
    send: (fx) => machineGrant(fx, { grant_type: 'client_credentials', scope: 'profile' }),
    expect: invalidScope,
  },
  {
    name: 'client credentials with openid: invalid_scope',
    send: (fx) => machineGrant(fx, { grant_type: 'client_credentials', scope: 'openid' }),
    expect: invalidScope,
  },
  {
    name: 'the password grant with a user scope beyond the registration (email): invalid_scope',
    send: (fx) => refusedLibraryCall(fx.app, () => client.genericGrantRequest(fx.app, 'password', { ...fx.user, scope: 'openid email' })),
    expect: invalidScope,
  },
  {
    name: 'a refused scope of non-ASCII and quotes: invalid_scope, the description keeps to RFC 6749 §5.2',
    send: (fx) => machineGrant(fx, { grant_type: 'client_credentials', scope: '\u00e9"\\' }),
    expect: invalidScope,
  },
  {
    name: 'a scope of 3000 characters: invalid_scope',
    send: (fx) => machineGrant(fx, { grant_type: 'client_credentials', scope: `orders:${'r'.repeat(3000)}` }),
    expect: invalidScope,
  },
  {
    name: 'a relative resource: invalid_target',
    send: (fx) => machineGrant(fx, { grant_type: 'client_credentials', resource: '/api/orders' }),
    expect: invalidTarget,
  },
  {
    name: 'a resource with a fragment: invalid_target',
    send: (fx) => refusedLibraryCall(fx.machine, () => client.clientCredentialsGrant(fx.machine, { resource: 'https://api.example.test/#orders' })),
    expect: invalidTarget,
  },
  {
    name: 'a resource that is no URI at all: invalid_target',
    send: (fx) => machineGrant(fx, { grant_type: 'client_credentials', resource: 'orders api' }),
    expect: invalidTarget,
  },
  {
    name: 'a good resource beside a bad one: invalid_target (no partial audience)',
    send: (fx) =>
      machineGrant(fx, [
        ['grant_type', 'client_credentials'],
        ['resource', 'https://api.example.test/orders'],
        ['resource', 'api.example.test'],
      ]),
    expect: invalidTarget,
  },
  {
    name: 'eleven resources (more than the 10 a token may name): invalid_target',
    send: (fx) =>
      machineGrant(fx, [['grant_type', 'client_credentials'], ...Array.from({ length: 11 }, (_, i): [string, string] => ['resource', `https://api${i}.example.test/`])]),
    expect: invalidTarget,
  },
  {
    name: 'a resource of 3000 characters: invalid_target',
    send: (fx) => machineGrant(fx, { grant_type: 'client_credentials', resource: `https://api.example.test/${'a'.repeat(3000)}` }),
    expect: invalidTarget,
  },
  {
    name: 'the password grant with a bad resource: invalid_target, before any password is checked',
    send: (fx) => postForm(fx, '/token', { grant_type: 'password', ...fx.user, scope: 'openid', resource: 'urn' }, basicOf(fx.app)),
    expect: invalidTarget,
  },
];
