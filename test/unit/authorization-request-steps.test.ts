import type { ClientView } from '../../contracts/messages/client-registry.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { matchRedirectUri } from '../../services/gateway/app/authorize/authorization-request.js';
import { validateAuthorizationRequest } from '../../services/gateway/app/authorize/request-steps.js';
import { wellFormedSessionToken } from '../../services/gateway/app/authorize/session-token.js';

const client = (overrides: Partial<ClientView> = {}): ClientView => ({
  clientId: 'c1',
  clientName: 'C1',
  applicationType: 'web',
  redirectUris: ['https://rp.example.test/cb'],
  grantTypes: ['authorization_code', 'implicit'],
  responseTypes: ['code', 'id_token', 'code id_token token'],
  tokenEndpointAuthMethod: 'client_secret_basic',
  scope: 'openid profile',
  idTokenSignedResponseAlg: 'RS256',
  refreshTokenReuseGraceSeconds: 0,
  clientIdIssuedAt: 0,
  ...overrides,
} as ClientView);

const validate = (params: Record<string, unknown>, c = client()) =>
  validateAuthorizationRequest({ response_type: 'code', scope: 'openid', ...params }, c, 'https://rp.example.test/cb', '00000000-0000-4000-8000-000000000000');
const errorOf = (params: Record<string, unknown>, c = client()) => {
  try {
    validate(params, c);
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    return (error as OAuthError).code;
  }
  throw new Error('the request was accepted');
};

describe('authorization request steps (OIDC Core §3.1.2.1)', () => {
  it('collects the OIDC parameters a certified OP honours', () => {
    const request = validate({
      response_type: 'token code id_token',
      nonce: 'n',
      display: 'popup',
      ui_locales: 'de-CH fr',
      claims_locales: 'de',
      login_hint: 'alice',
      acr_values: 'urn:a urn:b urn:a',
      max_age: '300',
      prompt: 'login consent',
    });
    expect(request).toMatchObject({
      responseType: 'code id_token token',
      responseMode: 'fragment',
      display: 'popup',
      uiLocales: ['de-CH', 'fr'],
      claimsLocales: ['de'],
      loginHint: 'alice',
      acrValues: ['urn:a', 'urn:b'],
      maxAge: 300,
      prompt: ['login', 'consent'],
    });
  });

  it.each([
    [{ display: 'fullscreen' }, 'invalid_request'],
    [{ prompt: 'none login' }, 'invalid_request'],
    [{ prompt: 'select_account' }, 'invalid_request'],
    [{ max_age: '-1' }, 'invalid_request'],
    [{ id_token_hint: 'not a jwt' }, 'invalid_request'],
    [{ scope: 'openid', state: ['a', 'b'] }, 'invalid_request'],
    [{ scope: { openid: true } }, 'invalid_request'],
    [{ response_type: 'id_token', scope: 'profile', nonce: 'n' }, 'invalid_scope'],
    [{ response_type: 'code token' }, 'unauthorized_client'],
    [{ response_type: 'id_token', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', nonce: 'n' }, 'invalid_request'],
  ])('%p is %s', (params, error) => {
    expect(errorOf(params)).toBe(error);
  });

  it('ui_locales and claims_locales are preferences: malformed tags are ignored, not an error', () => {
    expect(validate({ ui_locales: 'de_DE xx-<b> fr' }).uiLocales).toEqual(['fr']);
    expect(validate({ claims_locales: '<script>' }).claimsLocales).toBeUndefined();
  });

  it('a public client needs PKCE for a code, not for an ID token alone', () => {
    const publicClient = client({ tokenEndpointAuthMethod: 'none' });
    expect(errorOf({}, publicClient)).toBe('invalid_request');
    expect(validate({ response_type: 'id_token', nonce: 'n' }, publicClient).responseType).toBe('id_token');
  });

  it('a native client loopback redirect URI matches on any port of the same loopback host only', () => {
    const native = client({ applicationType: 'native', redirectUris: ['http://127.0.0.1/cb', 'http://localhost/cb'] });
    expect(matchRedirectUri({ redirect_uri: 'http://127.0.0.1:51000/cb' }, native)).toBe('http://127.0.0.1:51000/cb');
    expect(matchRedirectUri({ redirect_uri: 'http://localhost:51000/cb' }, native)).toBe('http://localhost:51000/cb');
    expect(() => matchRedirectUri({ redirect_uri: 'http://[::1]:51000/cb' }, native)).toThrow(OAuthError);
    expect(() => matchRedirectUri({ redirect_uri: 'http://127.0.0.1:51000/cb2' }, native)).toThrow(OAuthError);
    expect(() => matchRedirectUri({ redirect_uri: 'http://127.0.0.1:51000/cb' }, client({ redirectUris: ['http://127.0.0.1/cb'] }))).toThrow(OAuthError);
  });

  it('a session cookie is a UUID and a secret, or no session at all', () => {
    expect(wellFormedSessionToken(`${crypto.randomUUID()}.${'a'.repeat(43)}`)).toBe(true);
    for (const value of ['x'.repeat(5000), 'abc', `${crypto.randomUUID()}.`, `${crypto.randomUUID()}.${'a'.repeat(43)}.x`, `../../${'a'.repeat(43)}`]) {
      expect(wellFormedSessionToken(value)).toBe(false);
    }
  });
});
