import { OAuthError } from '../../contracts/oauth-error.js';
import { canonicalResponseType, defaultResponseMode, responseModeAllowed, RESPONSE_TYPES } from '../../contracts/response-types.js';
import { validateClientMetadata } from '../../services/client-registry/domain/client/metadata.js';
import { REQUEST_STEPS, errorResponseMode } from '../../services/gateway/app/authorize/request-steps.js';
import { AUTHORIZATION_STEPS } from '../../services/gateway/app/authorize/authorization-flow.js';
import { renderAuthorizationResponse } from '../../services/gateway/app/authorize/response-modes.js';

const redirect = ['https://rp.example.test/cb'];

describe('response types (Multiple Response Types §3-5, OIDC Core §3)', () => {
  it('a response type is a set: any order of its values is the same type, spelled one way', () => {
    expect(canonicalResponseType('token id_token code')).toBe('code id_token token');
    expect(canonicalResponseType('id_token code')).toBe('code id_token');
    for (const type of RESPONSE_TYPES) expect(canonicalResponseType(type)).toBe(type);
  });

  it.each(['token', 'code code', 'code  id_token', ' code', 'none', 'code none', 'CODE', ''])('%p is not a served response type', (value) => {
    expect(canonicalResponseType(value)).toBeUndefined();
  });

  it('the default mode follows the response type; the query never carries tokens', () => {
    expect(defaultResponseMode('code')).toBe('query');
    for (const type of RESPONSE_TYPES.filter((t) => t !== 'code')) {
      expect(defaultResponseMode(type)).toBe('fragment');
      expect(responseModeAllowed(type, 'query')).toBe(false);
      expect(responseModeAllowed(type, 'form_post')).toBe(true);
    }
  });

  it('an error of an invalid request goes in the requested mode if safe, else the type default, else the query', () => {
    expect(errorResponseMode({ response_type: 'code id_token', response_mode: 'query' })).toBe('fragment');
    expect(errorResponseMode({ response_type: 'code', response_mode: 'form_post' })).toBe('form_post');
    expect(errorResponseMode({ response_type: 'id_token' })).toBe('fragment');
    expect(errorResponseMode({ response_type: 'bogus', response_mode: 'jwt' })).toBe('query');
    expect(errorResponseMode({ response_type: ['code', 'code'] })).toBe('query');
  });

  it('renderers: query and fragment redirect with iss last; form_post is a form to the redirect URI', () => {
    const params = { code: 'c', state: 's&x' };
    expect(renderAuthorizationResponse('query', 'https://rp.example.test/cb?a=1', 'https://idp', params)).toEqual({
      kind: 'redirect',
      uri: 'https://rp.example.test/cb?a=1&code=c&state=s%26x&iss=https%3A%2F%2Fidp',
    });
    expect(renderAuthorizationResponse('fragment', 'https://rp.example.test/cb?a=1', 'https://idp', params)).toEqual({
      kind: 'redirect',
      uri: 'https://rp.example.test/cb?a=1#code=c&state=s%26x&iss=https%3A%2F%2Fidp',
    });
    expect(renderAuthorizationResponse('form_post', 'https://rp.example.test/cb', 'https://idp', { ...params, id_token: undefined })).toEqual({
      kind: 'form_post',
      action: 'https://rp.example.test/cb',
      fields: [['code', 'c'], ['state', 's&x'], ['iss', 'https://idp']],
    });
  });

  it('the authorization endpoint steps run in the documented order', () => {
    expect(AUTHORIZATION_STEPS).toEqual([
      'client', 'redirect URI', ...REQUEST_STEPS.map((s) => s.name), 'session', 'consent', 'issue',
    ]);
    const names = REQUEST_STEPS.map((s) => s.name);
    for (const [before, after] of [['response type', 'response mode'], ['response mode', 'scope'], ['scope', 'PKCE'], ['PKCE', 'state and nonce'], ['state and nonce', 'prompt'], ['prompt', 'max_age']]) {
      expect(names.indexOf(before!)).toBeLessThan(names.indexOf(after!));
    }
  });
});

describe('registering response types (RFC 7591 §2.1, OIDC Registration §2)', () => {
  const register = (metadata: Record<string, unknown>, by: 'open' | 'initial_access_token' = 'initial_access_token') =>
    validateClientMetadata({ redirect_uris: redirect, ...metadata }, by);
  const refused = (metadata: Record<string, unknown>, by: 'open' | 'initial_access_token' = 'initial_access_token') => {
    try {
      register(metadata, by);
    } catch (error) {
      expect(error).toBeInstanceOf(OAuthError);
      return (error as OAuthError).description;
    }
    throw new Error('registration was accepted');
  };

  it('token-returning types are only for clients registered with the initial access token', () => {
    for (const type of RESPONSE_TYPES.filter((t) => t !== 'code')) {
      const grants = type.includes('code') ? ['authorization_code', 'implicit'] : ['implicit'];
      expect(refused({ response_types: [type], grant_types: grants }, 'open')).toMatch(/initial access token/);
      expect(register({ response_types: [type], grant_types: grants }).responseTypes).toEqual([type]);
    }
  });

  it('response types are stored in their canonical spelling, once', () => {
    expect(register({ response_types: ['id_token code', 'code id_token', 'code'], grant_types: ['authorization_code', 'implicit'] }).responseTypes).toEqual([
      'code id_token',
      'code',
    ]);
  });

  it('each response type needs its grant types, and each redirect grant type a response type', () => {
    expect(refused({ response_types: ['code id_token'], grant_types: ['authorization_code'] })).toMatch(/needs grant type implicit/);
    expect(refused({ response_types: ['id_token'], grant_types: ['authorization_code'] })).toMatch(/needs grant type implicit/);
    expect(refused({ response_types: ['code'], grant_types: ['authorization_code', 'implicit'] })).toMatch(/implicit needs/);
    expect(refused({ response_types: ['id_token'], grant_types: ['implicit', 'authorization_code'] })).toMatch(/authorization_code needs/);
    expect(refused({ response_types: ['token'], grant_types: ['implicit'] })).toMatch(/unsupported response type token/);
  });

  it('http redirect URIs register on the same loopback hosts on which they match', () => {
    for (const uri of ['http://127.0.0.1:8080/cb', 'http://[::1]:8080/cb', 'http://localhost:8080/cb']) {
      expect(validateClientMetadata({ redirect_uris: [uri] }, 'open').redirectUris).toEqual([uri]);
    }
    expect(() => validateClientMetadata({ redirect_uris: ['http://127.0.0.2/cb'] }, 'open')).toThrow(/loopback/);
  });
});
