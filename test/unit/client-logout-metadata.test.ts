import { randomUUID } from 'node:crypto';
import { ClientMetadataUpdatedV1, ClientRegisteredV2, type ClientEvent } from '../../contracts/events/client.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { clientDecider } from '../../services/client-registry/domain/client/decider.js';
import { validateClientMetadata } from '../../services/client-registry/domain/client/metadata.js';

/**
 * The logout metadata of a client (RP-Initiated Logout 1.0 §3.1, Back-Channel Logout 1.0 §2.2),
 * validated at registration and recorded by client.registered v3 / client.metadata_updated v2.
 */
const WEB = { redirect_uris: ['https://app.example.com/cb'] };

function refusal(input: Record<string, unknown>): OAuthError {
  try {
    validateClientMetadata(input);
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
}

describe('client logout metadata', () => {
  test('defaults: no post-logout redirect URIs, no back-channel URI, session not required', () => {
    expect(validateClientMetadata(WEB)).toMatchObject({
      postLogoutRedirectUris: [],
      backchannelLogoutUri: null,
      backchannelLogoutSessionRequired: false,
    });
  });

  test('kept as registered: https and loopback http post-logout URIs, a back-channel URI with a query, session required', () => {
    const valid = validateClientMetadata(
      {
        ...WEB,
        post_logout_redirect_uris: ['https://app.example.com/bye?x=1', 'http://127.0.0.1:8080/bye', 'https://app.example.com/bye?x=1'],
        backchannel_logout_uri: 'https://app.example.com/backchannel?tenant=a',
        backchannel_logout_session_required: true,
      },
      'initial_access_token',
    );
    expect(valid.postLogoutRedirectUris).toEqual(['https://app.example.com/bye?x=1', 'http://127.0.0.1:8080/bye']);
    expect(valid.backchannelLogoutUri).toBe('https://app.example.com/backchannel?tenant=a');
    expect(valid.backchannelLogoutSessionRequired).toBe(true);
    expect(validateClientMetadata({ ...WEB, backchannel_logout_uri: 'http://localhost:9000/bc' }, 'initial_access_token').backchannelLogoutUri).toBe('http://localhost:9000/bc');
  });

  test('a back-channel URI is the operator\'s to allow: open registration cannot point the server at a host (SSRF)', () => {
    for (const uri of ['https://app.example.com/bc', 'http://127.0.0.1:9000/admin/quitquitquit', 'https://10.0.0.5/internal']) {
      expect(refusal({ ...WEB, backchannel_logout_uri: uri }).description).toMatch(/initial access token/);
    }
  });

  test('a native client may use a private-use scheme after logout, a web client may not', () => {
    const native = { redirect_uris: ['com.example.app:/cb'], application_type: 'native', token_endpoint_auth_method: 'none' };
    expect(validateClientMetadata({ ...native, post_logout_redirect_uris: ['com.example.app:/bye'] }).postLogoutRedirectUris).toEqual(['com.example.app:/bye']);
    expect(refusal({ ...WEB, post_logout_redirect_uris: ['com.example.app:/bye'] }).code).toBe('invalid_client_metadata');
  });

  test.each([
    ['a relative URI', { post_logout_redirect_uris: ['/bye'] }],
    ['a fragment', { post_logout_redirect_uris: ['https://app.example.com/bye#x'] }],
    ['plain http on a public host', { post_logout_redirect_uris: ['http://app.example.com/bye'] }],
    ['a javascript: URI', { post_logout_redirect_uris: ['javascript:alert(1)'] }],
    ['not an array', { post_logout_redirect_uris: 'https://app.example.com/bye' }],
    ['a back-channel URI that is not a URL', { backchannel_logout_uri: 'backchannel' }],
    ['a back-channel URI with a fragment', { backchannel_logout_uri: 'https://app.example.com/bc#f' }],
    ['a back-channel URI over http on a public host', { backchannel_logout_uri: 'http://app.example.com/bc' }],
    ['a back-channel URI of another scheme', { backchannel_logout_uri: 'ftp://app.example.com/bc' }],
    ['a back-channel URI with credentials', { backchannel_logout_uri: 'https://user:pw@app.example.com/bc' }],
    ['a back-channel URI that is a number', { backchannel_logout_uri: 42 }],
    ['backchannel_logout_session_required as a string', { backchannel_logout_session_required: 'true' }],
  ])('refused with invalid_client_metadata: %s', (_name, extra) => {
    expect(refusal({ ...WEB, ...extra }).code).toBe('invalid_client_metadata');
  });

  test('client.registered v3 records them; clients of v2 and updates of v1 fold to none (the old versions are not widened)', () => {
    const clientId = randomUUID();
    const decision = clientDecider.decide(
      {
        type: 'register_client',
        clientId,
        secretHash: null,
        registrationAccessTokenHash: null,
        authorizedBy: 'initial_access_token',
        metadata: { ...WEB, token_endpoint_auth_method: 'none', post_logout_redirect_uris: ['https://app.example.com/bye'], backchannel_logout_uri: 'https://app.example.com/bc' },
      },
      clientDecider.initialState(),
    );
    expect(decision.events).toMatchObject([
      { type: 'client.registered', schemaVersion: 3, data: { postLogoutRedirectUris: ['https://app.example.com/bye'], backchannelLogoutUri: 'https://app.example.com/bc', backchannelLogoutSessionRequired: false } },
    ]);

    const v2: ClientEvent = {
      type: 'client.registered',
      schemaVersion: 2,
      data: {
        clientId,
        applicationType: 'web',
        redirectUris: WEB.redirect_uris,
        grantTypes: ['authorization_code'],
        responseTypes: ['code'],
        tokenEndpointAuthMethod: 'none',
        secretHash: null,
        scope: 'openid',
        idTokenSignedResponseAlg: 'RS256',
        refreshTokenReuseGraceSeconds: 0,
        authorizedBy: 'open',
        registrationAccessTokenHash: null,
      },
    };
    const state = clientDecider.evolve(clientDecider.initialState(), v2);
    expect(state).toMatchObject({ status: 'registered', client: { postLogoutRedirectUris: [], backchannelLogoutUri: null, backchannelLogoutSessionRequired: false } });
    // V2 of client.registered and V1 of client.metadata_updated refuse the new fields.
    expect(ClientRegisteredV2.shape.data.strict().safeParse({ ...v2.data, postLogoutRedirectUris: [] }).success).toBe(false);
    expect(Object.keys(ClientMetadataUpdatedV1.shape.data.shape)).not.toContain('postLogoutRedirectUris');
  });
});
