import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ClientRegisteredV1, type ClientEvent, type TokenEndpointAuthMethod } from '../../contracts/events/client.js';
import { GRANT_TYPES } from '../../contracts/grants/index.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { authenticateClient } from '../../services/client-registry/domain/client/authenticate.js';
import type { RegisterClientCommand } from '../../services/client-registry/domain/client/decide.js';
import { clientDecider } from '../../services/client-registry/domain/client/decider.js';
import type { ClientState } from '../../services/client-registry/domain/client/state.js';
import { spec } from '../support/decider-spec.js';

const sha256Hex = (input: string | Buffer) => createHash('sha256').update(input).digest('hex');

const { given } = spec(clientDecider);

// The registration rules are keyed on grant type names. Grant types whose contracts have not
// landed yet are added to the list here only, for this test file (jest isolates its modules).
for (const name of ['client_credentials', 'password', 'refresh_token']) {
  if (!(GRANT_TYPES as readonly string[]).includes(name)) (GRANT_TYPES as string[]).push(name);
}

type Registered = Extract<ClientEvent, { type: 'client.registered' }>;

/** A server-generated 256-bit secret and what the log keeps of it (DESIGN §4). */
function newSecret() {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: sha256Hex(secret) };
}

/** What the log keeps of the registration access token of the commands below. */
const REGISTRATION_TOKEN_HASH = newSecret().hash;

function register(
  metadata: Record<string, unknown>,
  secretHash: string | null = newSecret().hash,
  clientId: string = randomUUID(),
  authorizedBy: 'open' | 'initial_access_token' = 'open',
): RegisterClientCommand {
  return { type: 'register_client', clientId, secretHash, registrationAccessTokenHash: REGISTRATION_TOKEN_HASH, authorizedBy, metadata };
}

type RegisteredV3Data = Extract<Registered, { schemaVersion: 3 }>['data'];
type RegisteredV1Data = Extract<Registered, { schemaVersion: 1 }>['data'];

/** client.registered as version 3 writes it; the fields new since version 1 at their defaults unless given. */
const registered = (
  data: RegisteredV1Data &
    Partial<
      Pick<
        RegisteredV3Data,
        | 'refreshTokenReuseGraceSeconds'
        | 'authorizedBy'
        | 'registrationAccessTokenHash'
        | 'postLogoutRedirectUris'
        | 'backchannelLogoutUri'
        | 'backchannelLogoutSessionRequired'
      >
    >,
): ClientEvent => ({
  type: 'client.registered',
  schemaVersion: 3,
  data: {
    refreshTokenReuseGraceSeconds: 0,
    authorizedBy: 'open',
    registrationAccessTokenHash: REGISTRATION_TOKEN_HASH,
    postLogoutRedirectUris: [],
    backchannelLogoutUri: null,
    backchannelLogoutSessionRequired: false,
    ...data,
  },
});

const WEB_REDIRECT = 'https://app.example.com/oauth/callback';

describe('client decider: registration (RFC 7591 §2, OIDC Registration §2)', () => {
  test('RFC 7591 §2: a confidential web client gets the defaults client_secret_basic, authorization_code, code, every supported scope (offline_access too) and no refresh grace', () => {
    const command = register({ client_name: 'Example App', redirect_uris: [WEB_REDIRECT] });
    given([])
      .when(command)
      .then([
        registered({
          clientId: command.clientId,
          clientName: 'Example App',
          applicationType: 'web',
          redirectUris: [WEB_REDIRECT],
          grantTypes: ['authorization_code'],
          responseTypes: ['code'],
          tokenEndpointAuthMethod: 'client_secret_basic',
          secretHash: command.secretHash,
          scope: 'openid profile email address phone offline_access',
          idTokenSignedResponseAlg: 'RS256',
        }),
      ]);
  });

  test('RFC 7591 §2: explicit metadata is kept (client_secret_post, a narrower scope, no client_name)', () => {
    const command = register({
      redirect_uris: [WEB_REDIRECT, 'https://app.example.com/oauth/callback2'],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      scope: 'openid email',
      id_token_signed_response_alg: 'RS256',
    });
    given([])
      .when(command)
      .then([
        registered({
          clientId: command.clientId,
          applicationType: 'web',
          redirectUris: [WEB_REDIRECT, 'https://app.example.com/oauth/callback2'],
          grantTypes: ['authorization_code'],
          responseTypes: ['code'],
          tokenEndpointAuthMethod: 'client_secret_post',
          secretHash: command.secretHash,
          scope: 'openid email',
          idTokenSignedResponseAlg: 'RS256',
        }),
      ]);
  });

  test('RFC 8252 §8.4: a public native client authenticates with none and has no secret hash', () => {
    const redirectUris = ['com.example.app:/oauth2redirect', 'http://127.0.0.1/callback'];
    const command = register(
      { application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: redirectUris },
      null,
    );
    given([])
      .when(command)
      .then([
        registered({
          clientId: command.clientId,
          applicationType: 'native',
          redirectUris,
          grantTypes: ['authorization_code'],
          responseTypes: ['code'],
          tokenEndpointAuthMethod: 'none',
          secretHash: null,
          scope: 'openid profile email address phone offline_access',
          idTokenSignedResponseAlg: 'RS256',
        }),
      ]);
  });

  test('RFC 7591 §2: repeated redirect URIs and scopes are recorded once', () => {
    const command = register({ redirect_uris: [WEB_REDIRECT, WEB_REDIRECT], scope: 'openid  email openid' });
    given([])
      .when(command)
      .then([
        registered({
          clientId: command.clientId,
          applicationType: 'web',
          redirectUris: [WEB_REDIRECT],
          grantTypes: ['authorization_code'],
          responseTypes: ['code'],
          tokenEndpointAuthMethod: 'client_secret_basic',
          secretHash: command.secretHash,
          scope: 'openid email',
          idTokenSignedResponseAlg: 'RS256',
        }),
      ]);
  });

  test('registering an existing client id writes nothing, even with other metadata (seeding is idempotent)', () => {
    const first = register({ redirect_uris: [WEB_REDIRECT] });
    const history = [
      registered({
        clientId: first.clientId,
        applicationType: 'web',
        redirectUris: [WEB_REDIRECT],
        grantTypes: ['authorization_code'],
        responseTypes: ['code'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        secretHash: first.secretHash,
        scope: 'openid profile email',
        idTokenSignedResponseAlg: 'RS256',
      }),
    ];
    given(history).when(first).thenNothing();
    given(history)
      .when(register({ redirect_uris: ['https://other.example.com/cb'], scope: 'openid' }, newSecret().hash, first.clientId))
      .thenNothing();
  });

  test('a confidential client without a secret hash is a programming error', () => {
    given([]).when(register({ redirect_uris: [WEB_REDIRECT] }, null)).thenThrows(/secret/);
  });

  test('a public client (none) with a secret hash is a programming error', () => {
    given([])
      .when(register({ redirect_uris: [WEB_REDIRECT], token_endpoint_auth_method: 'none' }, newSecret().hash))
      .thenThrows(/secret/);
  });
});

describe('client decider: redirect URIs (RFC 6749 §3.1.2, RFC 8252 §7, OIDC Registration §2)', () => {
  test.each([
    ['web', 'http://127.0.0.1:8080/callback'],
    ['web', 'http://[::1]:8080/callback'],
    ['web', 'http://localhost:3000/callback'],
    ['web', 'https://app.example.com/callback?tenant=acme'],
    ['native', 'https://app.example.com/oauth/native'],
    ['native', 'com.example.app:/oauth2redirect'],
    ['native', 'http://127.0.0.1/callback'],
  ] as const)('RFC 8252 §7 / RFC 6749 §3.1.2: a %s client may register %s', (applicationType, uri) => {
    const command = register(
      { application_type: applicationType, redirect_uris: [uri], token_endpoint_auth_method: 'none' },
      null,
    );
    given([])
      .when(command)
      .then([
        registered({
          clientId: command.clientId,
          applicationType,
          redirectUris: [uri],
          grantTypes: ['authorization_code'],
          responseTypes: ['code'],
          tokenEndpointAuthMethod: 'none',
          secretHash: null,
          scope: 'openid profile email address phone offline_access',
          idTokenSignedResponseAlg: 'RS256',
        }),
      ]);
  });

  test.each([
    ['RFC 6749 §3.1.2: a relative URI', 'web', '/oauth/callback'],
    ['RFC 6749 §3.1.2: a URI without scheme', 'web', 'app.example.com/oauth/callback'],
    ['RFC 6749 §3.1.2: a fragment', 'web', 'https://app.example.com/oauth/callback#state'],
    ['RFC 6749 §3.1.2: an empty fragment', 'web', 'https://app.example.com/oauth/callback#'],
    ['RFC 6749 §3.1.2.1: http on a non-loopback host (web)', 'web', 'http://app.example.com/oauth/callback'],
    ['RFC 8252 §8.3: http on a non-loopback host (native)', 'native', 'http://app.example.com/oauth/callback'],
    ['RFC 8252 §8.3: a host that only starts with localhost', 'web', 'http://localhost.evil.example/callback'],
    ['RFC 8252 §7.1: a private-use scheme (native apps only) for a web client', 'web', 'com.example.app:/oauth2redirect'],
    ['RFC 8252 §7.1: a private-use scheme that is not a reverse domain name', 'native', 'myapp:/oauth2redirect'],
    ['RFC 8252 §7.1: a javascript: URI, which is no private-use scheme', 'native', 'javascript:alert(document.cookie)'],
  ] as const)('%s is refused with invalid_redirect_uri', (_rule, applicationType, uri) => {
    given([])
      .when(register({ application_type: applicationType, redirect_uris: [WEB_REDIRECT, uri] }))
      .then([], { error: 'invalid_redirect_uri', status: 400, mayRedirect: false });
  });

  test('RFC 7591 §2: a client without redirect_uris is refused with invalid_redirect_uri', () => {
    given([]).when(register({})).then([], { error: 'invalid_redirect_uri', mayRedirect: false });
    given([]).when(register({ redirect_uris: [] })).then([], { error: 'invalid_redirect_uri', mayRedirect: false });
  });
});

describe('client decider: unsupported metadata (RFC 7591 §3.2.2 invalid_client_metadata)', () => {
  test.each([
    ['redirect_uris that are not an array', { redirect_uris: WEB_REDIRECT }],
    ['redirect_uris with a non-string', { redirect_uris: [WEB_REDIRECT, 42] }],
    ['an unknown application_type', { application_type: 'desktop' }],
    ['the implicit grant type', { grant_types: ['implicit'] }],
    ['the password grant type (open registration)', { grant_types: ['password'] }],
    ['an empty grant_types', { grant_types: [] }],
    ['the token response type', { response_types: ['token'] }],
    ['the hybrid response type "code id_token"', { response_types: ['code id_token'] }],
    ['response_types without code while grant_types has authorization_code', { response_types: [] }],
    ['an unsupported scope', { scope: 'openid admin' }],
    ['a scope that is not a string', { scope: ['openid'] }],
    ['token_endpoint_auth_method private_key_jwt', { token_endpoint_auth_method: 'private_key_jwt' }],
    ['token_endpoint_auth_method client_secret_jwt', { token_endpoint_auth_method: 'client_secret_jwt' }],
    ['id_token_signed_response_alg none', { id_token_signed_response_alg: 'none' }],
    ['a client_name longer than 200 characters', { client_name: 'x'.repeat(201) }],
    ['a client_name that is not a string', { client_name: { en: 'Example' } }],
    ['a negative refresh_token_reuse_grace_seconds', { refresh_token_reuse_grace_seconds: -1 }],
    ['a refresh_token_reuse_grace_seconds above 60', { refresh_token_reuse_grace_seconds: 61 }],
    ['a fractional refresh_token_reuse_grace_seconds', { refresh_token_reuse_grace_seconds: 1.5 }],
    ['a refresh_token_reuse_grace_seconds that is a string', { refresh_token_reuse_grace_seconds: '10' }],
  ])('RFC 7591 §3.2.2: %s is refused with invalid_client_metadata', (_label, metadata: Record<string, unknown>) => {
    given([])
      .when(register({ redirect_uris: [WEB_REDIRECT], ...metadata }))
      .then([], { error: 'invalid_client_metadata', status: 400, mayRedirect: false });
  });
});

describe('authenticateClient (RFC 6749 §2.3.1, §5.2)', () => {
  function registeredState(method: TokenEndpointAuthMethod) {
    const secret = method === 'none' ? null : newSecret();
    const clientId = randomUUID();
    const event = registered({
      clientId,
      applicationType: 'web',
      redirectUris: [WEB_REDIRECT],
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
      tokenEndpointAuthMethod: method,
      secretHash: secret?.hash ?? null,
      scope: 'openid profile email',
      idTokenSignedResponseAlg: 'RS256',
    });
    const state = [event].reduce(clientDecider.evolve, clientDecider.initialState());
    /** What the caller computes in constant time: does the presented secret hash to the stored one? */
    const presenting = (presented: string) => (stored: string) => sha256Hex(presented) === stored;
    return { clientId, secret, state, presenting };
  }

  function refusal(run: () => unknown): OAuthError {
    try {
      run();
    } catch (error) {
      if (error instanceof OAuthError) return error;
      throw error;
    }
    throw new Error('expected authenticateClient to refuse');
  }

  function expectInvalidClient(error: OAuthError): void {
    expect(error.code).toBe('invalid_client');
    expect(error.status).toBe(401);
    expect(error.mayRedirect).toBe(false);
  }

  test('RFC 6749 §2.3.1: the registered method with the right secret authenticates the client', () => {
    const c = registeredState('client_secret_basic');
    const client = authenticateClient(c.state, 'client_secret_basic', c.presenting(c.secret!.secret));
    expect(client.clientId).toBe(c.clientId);
    expect(client.secretHash).toBe(c.secret!.hash);
  });

  test('RFC 6749 §2.1: a public client authenticates with none, without any secret check', () => {
    const c = registeredState('none');
    let secretChecks = 0;
    const secretMatches = () => {
      secretChecks += 1;
      return false;
    };
    expect(authenticateClient(c.state, 'none', secretMatches).clientId).toBe(c.clientId);
    expect(secretChecks).toBe(0);
  });

  test('RFC 6749 §5.2: a wrong secret is invalid_client, 401, never redirected', () => {
    const c = registeredState('client_secret_basic');
    const wrong = randomBytes(32).toString('base64url');
    expectInvalidClient(refusal(() => authenticateClient(c.state, 'client_secret_basic', c.presenting(wrong))));
  });

  test.each([
    ['client_secret_basic', 'client_secret_post'],
    ['client_secret_post', 'client_secret_basic'],
    ['client_secret_basic', 'none'],
    ['none', 'client_secret_basic'],
  ] as const)(
    'RFC 6749 §2.3: a client registered with %s that authenticates with %s is invalid_client, even with the right secret',
    (registeredMethod, usedMethod) => {
      const c = registeredState(registeredMethod);
      const rightSecret = c.presenting(c.secret?.secret ?? randomBytes(32).toString('base64url'));
      expectInvalidClient(refusal(() => authenticateClient(c.state, usedMethod, rightSecret)));
    },
  );

  test('RFC 6749 §5.2: an unknown client is invalid_client, 401, never redirected', () => {
    const unknown: ClientState = clientDecider.initialState();
    expectInvalidClient(refusal(() => authenticateClient(unknown, 'client_secret_basic', () => true)));
  });

  test('RFC 6749 §5.2: every failure reads the same to the client, so it does not tell which part was wrong', () => {
    const c = registeredState('client_secret_basic');
    const wrongSecret = refusal(() =>
      authenticateClient(c.state, 'client_secret_basic', c.presenting(randomBytes(32).toString('base64url'))),
    );
    const wrongMethod = refusal(() => authenticateClient(c.state, 'client_secret_post', c.presenting(c.secret!.secret)));
    const unknown = refusal(() => authenticateClient(clientDecider.initialState(), 'client_secret_basic', () => true));
    expect(new Set([wrongSecret, wrongMethod, unknown].map((e) => JSON.stringify([e.code, e.description, e.status]))).size).toBe(1);
    // the operator detail still tells them apart
    expect(new Set([wrongSecret, wrongMethod, unknown].map((e) => e.detail)).size).toBe(3);
  });
});

describe('client decider: client.registered version 2 (grants without redirects, password, refresh grace)', () => {
  test('RFC 6749 §4.4: a client_credentials client needs no redirect URI and gets no response type', () => {
    const command = register({ grant_types: ['client_credentials'], scope: 'profile' });
    given([])
      .when(command)
      .then([
        registered({
          clientId: command.clientId,
          applicationType: 'web',
          redirectUris: [],
          grantTypes: ['client_credentials'],
          responseTypes: [],
          tokenEndpointAuthMethod: 'client_secret_basic',
          secretHash: command.secretHash,
          scope: 'profile',
          idTokenSignedResponseAlg: 'RS256',
        }),
      ]);
  });

  test('RFC 6749 §4.4: client_credentials with token_endpoint_auth_method none is invalid_client_metadata', () => {
    given([])
      .when(register({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }, null))
      .then([], { error: 'invalid_client_metadata', status: 400, mayRedirect: false });
  });

  test('RFC 7591 §2: a client that adds authorization_code still needs a redirect URI', () => {
    given([])
      .when(register({ grant_types: ['client_credentials', 'authorization_code'] }))
      .then([], { error: 'invalid_redirect_uri', mayRedirect: false });
  });

  test('RFC 7591 §2.1: response_types "code" without authorization_code is refused', () => {
    given([])
      .when(register({ grant_types: ['client_credentials'], response_types: ['code'] }))
      .then([], { error: 'invalid_client_metadata' });
  });

  test('RFC 9700 §2.4: the password grant with open registration is invalid_client_metadata, nothing recorded', () => {
    given([])
      .when(register({ grant_types: ['password', 'refresh_token'] }))
      .then([], { error: 'invalid_client_metadata', status: 400, mayRedirect: false });
  });

  test('the password grant authorized by the initial access token is registered, and who authorized it is recorded', () => {
    const command = register({ grant_types: ['password', 'refresh_token'], scope: 'openid offline_access' }, newSecret().hash, randomUUID(), 'initial_access_token');
    given([])
      .when(command)
      .then([
        registered({
          clientId: command.clientId,
          applicationType: 'web',
          redirectUris: [],
          grantTypes: ['password', 'refresh_token'],
          responseTypes: [],
          tokenEndpointAuthMethod: 'client_secret_basic',
          secretHash: command.secretHash,
          scope: 'openid offline_access',
          idTokenSignedResponseAlg: 'RS256',
          authorizedBy: 'initial_access_token',
        }),
      ]);
  });

  test.each([0, 1, 30, 60])('refresh_token_reuse_grace_seconds %i is kept', (grace) => {
    const command = register({ redirect_uris: [WEB_REDIRECT], grant_types: ['authorization_code', 'refresh_token'], refresh_token_reuse_grace_seconds: grace });
    given([])
      .when(command)
      .then([
        registered({
          clientId: command.clientId,
          applicationType: 'web',
          redirectUris: [WEB_REDIRECT],
          grantTypes: ['authorization_code', 'refresh_token'],
          responseTypes: ['code'],
          tokenEndpointAuthMethod: 'client_secret_basic',
          secretHash: command.secretHash,
          scope: 'openid profile email address phone offline_access',
          idTokenSignedResponseAlg: 'RS256',
          refreshTokenReuseGraceSeconds: grace,
        }),
      ]);
  });

  test('a client registered with version 1 folds to the safe defaults: no grace, open, not manageable over RFC 7592', () => {
    const clientId = randomUUID();
    const v1: ClientEvent = {
      type: 'client.registered',
      schemaVersion: 1,
      data: {
        clientId,
        applicationType: 'web',
        redirectUris: [WEB_REDIRECT],
        grantTypes: ['authorization_code'],
        responseTypes: ['code'],
        tokenEndpointAuthMethod: 'none',
        secretHash: null,
        scope: 'openid',
        idTokenSignedResponseAlg: 'RS256',
      },
    };
    expect(clientDecider.evolve(clientDecider.initialState(), v1)).toEqual({
      status: 'registered',
      client: {
        ...v1.data,
        refreshTokenReuseGraceSeconds: 0,
        authorizedBy: 'open',
        registrationAccessTokenHash: null,
        postLogoutRedirectUris: [],
        backchannelLogoutUri: null,
        backchannelLogoutSessionRequired: false,
      },
    });
    // and registering its id again is still a no-op
    given([v1]).when(register({ redirect_uris: [WEB_REDIRECT] }, newSecret().hash, clientId)).thenNothing();
  });

  test('version 1 of client.registered still requires a redirect URI: the contract is not widened', () => {
    const parsed = ClientRegisteredV1.safeParse({
      type: 'client.registered',
      schemaVersion: 1,
      data: { clientId: 'c', applicationType: 'web', redirectUris: [], grantTypes: ['client_credentials'], responseTypes: [], tokenEndpointAuthMethod: 'client_secret_basic', secretHash: null, scope: '', idTokenSignedResponseAlg: 'RS256' },
    });
    expect(parsed.success).toBe(false);
  });
});
