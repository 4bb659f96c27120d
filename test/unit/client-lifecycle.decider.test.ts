import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ClientEvent } from '../../contracts/events/client.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import type { ClientCommand } from '../../services/client-registry/domain/client/decide.js';
import { clientDecider } from '../../services/client-registry/domain/client/decider.js';
import { authorizeClientAccess, type ClientAccess } from '../../services/client-registry/domain/client/management-access.js';
import { spec } from '../support/decider-spec.js';

const sha256Hex = (input: string) => createHash('sha256').update(input).digest('hex');
const secret = () => randomBytes(32).toString('base64url');
const { given } = spec(clientDecider);

const REDIRECT = 'https://app.example.com/cb';
const AT = '2026-05-01T10:00:00.000Z';

/** A confidential client registered over RFC 7591, with its secrets in the clear for the test. */
function confidential(overrides: Partial<Extract<ClientEvent, { type: 'client.registered'; schemaVersion: 2 }>['data']> = {}) {
  const clientSecret = secret();
  const token = secret();
  const clientId = randomUUID();
  const registered: ClientEvent = {
    type: 'client.registered',
    schemaVersion: 2,
    data: {
      clientId,
      applicationType: 'web',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      secretHash: sha256Hex(clientSecret),
      scope: 'openid profile',
      idTokenSignedResponseAlg: 'RS256',
      refreshTokenReuseGraceSeconds: 0,
      authorizedBy: 'open',
      registrationAccessTokenHash: sha256Hex(token),
      ...overrides,
    },
  };
  const access: ClientAccess = { kind: 'registration_access_token', tokenHash: sha256Hex(token) };
  const wrongAccess: ClientAccess = { kind: 'registration_access_token', tokenHash: sha256Hex(secret()) };
  return { clientId, clientSecret, token, registered, access, wrongAccess };
}

const update = (
  c: { clientId: string; access: ClientAccess },
  metadata: Record<string, unknown>,
  extra: Partial<Extract<ClientCommand, { type: 'update_client' }>> = {},
): ClientCommand => ({
  type: 'update_client',
  clientId: c.clientId,
  access: c.access,
  metadata: { client_id: c.clientId, ...metadata },
  presentedSecretHash: null,
  newSecretHash: null,
  ...extra,
});

const deleted = (clientId: string): ClientEvent => ({ type: 'client.deleted', schemaVersion: 1, data: { clientId, deletedAt: AT } });

describe('client decider: RFC 7592 update (§2.2)', () => {
  test('RFC 7592 §2.2: the full metadata replaces the old one; left-out fields take their defaults', () => {
    const c = confidential();
    given([c.registered])
      .when(update(c, { redirect_uris: ['https://app.example.com/cb2'], client_name: 'Renamed', refresh_token_reuse_grace_seconds: 5 }))
      .then([
        {
          type: 'client.metadata_updated',
          schemaVersion: 2,
          data: {
            clientId: c.clientId,
            clientName: 'Renamed',
            applicationType: 'web',
            redirectUris: ['https://app.example.com/cb2'],
            grantTypes: ['authorization_code'],
            responseTypes: ['code'],
            tokenEndpointAuthMethod: 'client_secret_basic',
            scope: 'openid profile email address phone offline_access',
            idTokenSignedResponseAlg: 'RS256',
            refreshTokenReuseGraceSeconds: 5,
            postLogoutRedirectUris: [],
            backchannelLogoutUri: null,
            backchannelLogoutSessionRequired: false,
          },
        },
      ]);
  });

  test('an update that changes nothing records nothing', () => {
    const c = confidential();
    given([c.registered]).when(update(c, { redirect_uris: [REDIRECT], scope: 'openid profile' })).thenNothing();
  });

  test('RFC 7592 §2.2: the client_id in the body must be the client\'s own (and must be there)', () => {
    const c = confidential();
    given([c.registered])
      .when(update(c, { redirect_uris: [REDIRECT], client_id: randomUUID() }))
      .then([], { error: 'invalid_client_metadata', status: 400 });
    const command = update(c, { redirect_uris: [REDIRECT] });
    delete (command as { metadata: Record<string, unknown> }).metadata.client_id;
    given([c.registered]).when(command).then([], { error: 'invalid_client_metadata' });
  });

  test('RFC 7592 §2.2: a client_secret in the request must be the current one; the right one is accepted', () => {
    const c = confidential();
    given([c.registered])
      .when(update(c, { redirect_uris: [REDIRECT], scope: 'openid' }, { presentedSecretHash: sha256Hex(secret()) }))
      .then([], { error: 'invalid_client_metadata' });
    given([c.registered])
      .when(update(c, { redirect_uris: [REDIRECT], scope: 'openid profile' }, { presentedSecretHash: sha256Hex(c.clientSecret) }))
      .thenNothing();
  });

  test('asked for, a new secret is recorded with the update (client.secret_rotated)', () => {
    const c = confidential();
    const newSecretHash = sha256Hex(secret());
    given([c.registered])
      .when(update(c, { redirect_uris: [REDIRECT], scope: 'openid profile' }, { newSecretHash }))
      .then([{ type: 'client.secret_rotated', schemaVersion: 1, data: { clientId: c.clientId, secretHash: newSecretHash } }]);
  });

  test('token_endpoint_auth_method cannot switch between none and a secret method; between secret methods it can', () => {
    const c = confidential();
    given([c.registered])
      .when(update(c, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }))
      .then([], { error: 'invalid_client_metadata' });
    const post = clientDecider.decide(update(c, { redirect_uris: [REDIRECT], scope: 'openid profile', token_endpoint_auth_method: 'client_secret_post' }), [c.registered].reduce(clientDecider.evolve, clientDecider.initialState()));
    expect(post.events.map((e) => e.type)).toEqual(['client.metadata_updated']);
  });

  test('RFC 9700 §2.4: an openly registered client cannot add the password grant by updating', () => {
    const c = confidential();
    given([c.registered]).when(update(c, { grant_types: ['password'] })).then([], { error: 'invalid_client_metadata' });
  });

  test('invalid metadata in an update is refused like at registration, nothing recorded', () => {
    const c = confidential();
    given([c.registered]).when(update(c, { redirect_uris: ['http://evil.example/cb'] })).then([], { error: 'invalid_redirect_uri' });
    given([c.registered]).when(update(c, { redirect_uris: [REDIRECT], refresh_token_reuse_grace_seconds: 120 })).then([], { error: 'invalid_client_metadata' });
  });
});

describe('client decider: who may manage a client (RFC 7592 §2.1, RFC 6750 §3.1)', () => {
  const commands = (c: ReturnType<typeof confidential>, access: ClientAccess): [string, ClientCommand][] => [
    ['update', update({ clientId: c.clientId, access }, { redirect_uris: [REDIRECT], scope: 'openid' })],
    ['rotation', { type: 'rotate_client_secret', clientId: c.clientId, access, newSecretHash: sha256Hex(secret()) }],
    ['deletion', { type: 'delete_client', clientId: c.clientId, access, at: AT }],
  ];

  test.each(['update', 'rotation', 'deletion'])('a wrong registration access token: %s refused 401 invalid_token, nothing recorded', (name) => {
    const c = confidential();
    const command = commands(c, c.wrongAccess).find(([n]) => n === name)![1];
    given([c.registered]).when(command).then([], { error: 'invalid_token', status: 401, mayRedirect: false });
  });

  test.each(['update', 'rotation', 'deletion'])('another client\'s token: %s refused 401 invalid_token', (name) => {
    const c = confidential();
    const other = confidential();
    const command = commands(c, other.access).find(([n]) => n === name)![1];
    given([c.registered]).when(command).then([], { error: 'invalid_token', status: 401 });
  });

  test.each(['update', 'rotation', 'deletion'])('an unknown or deleted client reads like a wrong token (%s): 401 invalid_token', (name) => {
    const c = confidential();
    const command = commands(c, c.access).find(([n]) => n === name)![1];
    given([]).when(command).then([], { error: 'invalid_token', status: 401 });
    given([c.registered, deleted(c.clientId)]).when(command).then([], { error: 'invalid_token', status: 401 });
  });

  test('a client without a registration access token (seeded, or registered before RFC 7592) cannot be managed with one', () => {
    const c = confidential({ registrationAccessTokenHash: null });
    given([c.registered]).when(commands(c, c.access)[0]![1]).then([], { error: 'invalid_token', status: 401 });
  });

  test('every refusal reads the same to the caller', () => {
    const c = confidential();
    const states = [
      clientDecider.initialState(),
      [c.registered].reduce(clientDecider.evolve, clientDecider.initialState()),
      [c.registered, deleted(c.clientId)].reduce(clientDecider.evolve, clientDecider.initialState()),
    ];
    const errors = states.map((state, i) => {
      try {
        authorizeClientAccess(state, i === 1 ? c.wrongAccess : c.access);
      } catch (error) {
        return error as OAuthError;
      }
      throw new Error('expected a refusal');
    });
    expect(new Set(errors.map((e) => JSON.stringify([e.code, e.description, e.status]))).size).toBe(1);
  });
});

describe('client decider: secret rotation, watermark, deletion', () => {
  test('rotation records the new secret hash', () => {
    const c = confidential();
    const newSecretHash = sha256Hex(secret());
    given([c.registered])
      .when({ type: 'rotate_client_secret', clientId: c.clientId, access: c.access, newSecretHash })
      .then([{ type: 'client.secret_rotated', schemaVersion: 1, data: { clientId: c.clientId, secretHash: newSecretHash } }]);
    // and an administrator may rotate without the registration access token
    given([c.registered])
      .when({ type: 'rotate_client_secret', clientId: c.clientId, access: { kind: 'admin' }, newSecretHash })
      .then([{ type: 'client.secret_rotated', schemaVersion: 1, data: { clientId: c.clientId, secretHash: newSecretHash } }]);
  });

  test('a public client has no secret to rotate', () => {
    const c = confidential({ tokenEndpointAuthMethod: 'none', secretHash: null });
    given([c.registered])
      .when({ type: 'rotate_client_secret', clientId: c.clientId, access: c.access, newSecretHash: sha256Hex(secret()) })
      .then([], { error: 'invalid_request' });
  });

  test('after a rotation the old secret no longer authenticates (the state holds the new hash)', () => {
    const c = confidential();
    const next = secret();
    const state = [c.registered, { type: 'client.secret_rotated', schemaVersion: 1, data: { clientId: c.clientId, secretHash: sha256Hex(next) } } as ClientEvent].reduce(
      clientDecider.evolve,
      clientDecider.initialState(),
    );
    expect(state).toMatchObject({ status: 'registered', client: { secretHash: sha256Hex(next) } });
  });

  test('revoking a client\'s tokens records the watermark with the time of the command', () => {
    const c = confidential();
    given([c.registered])
      .when({ type: 'revoke_client_tokens', clientId: c.clientId, at: AT })
      .then([{ type: 'client.tokens_revoked', schemaVersion: 1, data: { clientId: c.clientId, revokedAt: AT } }]);
    given([]).when({ type: 'revoke_client_tokens', clientId: c.clientId, at: AT }).then([], { error: 'invalid_request' });
    given([c.registered, deleted(c.clientId)]).when({ type: 'revoke_client_tokens', clientId: c.clientId, at: AT }).thenNothing();
  });

  test('RFC 7592 §2.3: deletion records client.deleted; a second deletion is refused like an unknown client', () => {
    const c = confidential();
    given([c.registered]).when({ type: 'delete_client', clientId: c.clientId, access: c.access, at: AT }).then([deleted(c.clientId)]);
    given([c.registered, deleted(c.clientId)])
      .when({ type: 'delete_client', clientId: c.clientId, access: c.access, at: AT })
      .then([], { error: 'invalid_token', status: 401 });
    given([c.registered, deleted(c.clientId)]).when({ type: 'delete_client', clientId: c.clientId, access: { kind: 'admin' }, at: AT }).thenNothing();
  });

  test('a deleted client id is never registered again, not even by seeding', () => {
    const c = confidential();
    given([c.registered, deleted(c.clientId)])
      .when({
        type: 'register_client',
        clientId: c.clientId,
        secretHash: sha256Hex(secret()),
        registrationAccessTokenHash: null,
        authorizedBy: 'open',
        metadata: { redirect_uris: [REDIRECT] },
      })
      .then([], { error: 'invalid_client_metadata' });
  });
});
