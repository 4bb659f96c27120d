import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { Browser, responseParameters, type AuthorizeResult } from '../../support/browser.js';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * Every response type in every response mode (OAuth 2.0 Multiple Response Types, Form Post
 * Response Mode, OIDC Core §3.1-3.3), through openid-client where it serves the flow (code,
 * `code id_token`, `id_token`) and checked by hand where it does not (the types that return an
 * access token from the authorization endpoint, which openid-client 6 dropped). Token-returning
 * types may only be registered with the initial access token, so this runs against the
 * deployment that has one.
 */
const REDIRECT_URI = 'https://rp.example.test/callback';
const ALL_RESPONSE_TYPES = ['code', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token'];
const SCOPE = 'openid profile';

/** The combinations served: the query never carries tokens (RFC 9700 §2.1.2). */
const COMBINATIONS: Array<[string, 'query' | 'fragment' | 'form_post']> = ALL_RESPONSE_TYPES.flatMap((type) =>
  (type === 'code' ? (['query', 'fragment', 'form_post'] as const) : (['fragment', 'form_post'] as const)).map(
    (mode) => [type, mode] as [string, 'query' | 'fragment' | 'form_post'],
  ),
);

/** OIDC Core §3.1.3.6, §3.3.2.11: base64url of the left half of SHA-256 (RS256). */
const leftHalfHash = (value: string) => createHash('sha256').update(value, 'ascii').digest().subarray(0, 16).toString('base64url');

export function describeBrowserFlows(
  server: () => IdpUnderTest,
  initialAccessToken: string,
  user: { username: string; password: string },
): void {
  const options = (execute: Array<(config: client.Configuration) => void> = []) => ({
    execute: [client.allowInsecureRequests, ...execute],
    initialAccessToken,
  });
  const register = (metadata: Record<string, unknown>, execute: Array<(config: client.Configuration) => void> = []) =>
    client.dynamicClientRegistration(
      new URL(server().issuer),
      { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile email', ...metadata },
      client.ClientSecretBasic(),
      options(execute),
    );

  describe('implicit and hybrid flows, every response mode (OIDC Core §3.2-3.3)', () => {
    let config: client.Configuration;
    const browser = new Browser();

    beforeAll(async () => {
      config = await register({ response_types: ALL_RESPONSE_TYPES, grant_types: ['authorization_code', 'implicit'] });
    });

    async function run(responseType: string, mode: string, extra: Record<string, string> = {}) {
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        response_type: responseType,
        response_mode: mode,
        scope: SCOPE,
        state,
        nonce,
        ...extra,
      });
      const result = await browser.authorize(url, { ...user, consent: 'allow' });
      return { state, nonce, result, params: responseParameters(result) };
    }

    it.each(COMBINATIONS)('%s in %s mode: exactly the asked-for parameters, state and iss, in that mode', async (responseType, mode) => {
      const { state, result, params } = await run(responseType, mode);
      const parts = responseType.split(' ');
      if (mode === 'query') expect(result.callback.hash).toBe('');
      if (mode === 'fragment') expect(result.callback.search).toBe('');
      if (mode === 'form_post') {
        expect(result.formPost).toBeDefined();
        expect(result.callback.href).toBe(REDIRECT_URI);
      } else {
        expect(result.formPost).toBeUndefined();
      }
      expect(params.get('state')).toBe(state);
      expect(params.get('iss')).toBe(server().issuer);
      expect(params.has('code')).toBe(parts.includes('code'));
      expect(params.has('id_token')).toBe(parts.includes('id_token'));
      expect(params.has('access_token')).toBe(parts.includes('token'));
      if (parts.includes('token')) {
        expect(params.get('token_type')).toBe('Bearer');
        expect(Number(params.get('expires_in'))).toBeGreaterThan(0);
      }
    });

    it.each(COMBINATIONS)('%s in %s mode: the ID token verifies, with c_hash and at_hash of what came with it', async (responseType, mode) => {
      if (!responseType.includes('id_token')) {
        // Nothing to verify in the front channel: the code is redeemed by the next test's loop.
        const { params } = await run(responseType, mode);
        expect(params.get('id_token')).toBeNull();
        return;
      }
      const { nonce, params } = await run(responseType, mode);
      const jwks = createRemoteJWKSet(new URL(`${server().issuer}/jwks`));
      const { payload } = await jwtVerify(params.get('id_token')!, jwks, {
        issuer: server().issuer,
        audience: config.clientMetadata().client_id,
        algorithms: ['RS256'],
      });
      expect(payload.nonce).toBe(nonce);
      expect(payload.sid).toEqual(expect.any(String));
      const accessToken = params.get('access_token');
      const code = params.get('code');
      expect(payload.at_hash).toBe(accessToken === null ? undefined : leftHalfHash(accessToken));
      expect(payload.c_hash).toBe(code === null ? undefined : leftHalfHash(code));
      // OIDC Core §5.4: only when no access token is issued at all (response type id_token) are
      // the scope's claims in the ID token; otherwise userinfo gives them.
      expect(payload.preferred_username).toBe(responseType === 'id_token' ? user.username : undefined);
    });

    it('code: openid-client redeems it in every mode (query, fragment read by the page, form_post)', async () => {
      for (const mode of ['query', 'fragment', 'form_post'] as const) {
        const { state, nonce, result, params } = await run('code', mode);
        const current = mode === 'form_post'
          ? new Request(result.callback, { method: 'POST', body: new URLSearchParams(result.formPost), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
          : new URL(`${REDIRECT_URI}?${params.toString()}`);
        const tokens = await client.authorizationCodeGrant(config, current, { expectedState: state, expectedNonce: nonce });
        expect(tokens.claims()!.nonce).toBe(nonce);
      }
    });

    it('code id_token: openid-client checks the ID token and its c_hash, then redeems the code, in fragment and form_post', async () => {
      const hybrid = await register({ response_types: ['code id_token'], grant_types: ['authorization_code', 'implicit'] }, [client.useCodeIdTokenResponseType]);
      for (const mode of ['fragment', 'form_post'] as const) {
        const state = client.randomState();
        const nonce = client.randomNonce();
        const url = client.buildAuthorizationUrl(hybrid, { redirect_uri: REDIRECT_URI, response_mode: mode, scope: SCOPE, state, nonce });
        expect(url.searchParams.get('response_type')).toBe('code id_token');
        const result = await browser.authorize(url, { ...user, consent: 'allow' });
        const current = mode === 'form_post'
          ? new Request(result.callback, { method: 'POST', body: new URLSearchParams(result.formPost), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
          : result.callback;
        const tokens = await client.authorizationCodeGrant(hybrid, current, { expectedState: state, expectedNonce: nonce });
        expect(tokens.claims()!.sub).toEqual(expect.any(String));
      }
    });

    it('a forged c_hash is caught by openid-client (the check can fail)', async () => {
      const hybrid = await register({ response_types: ['code id_token'], grant_types: ['authorization_code', 'implicit'] }, [client.useCodeIdTokenResponseType]);
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(hybrid, { redirect_uri: REDIRECT_URI, scope: SCOPE, state, nonce });
      const result = await browser.authorize(url, { ...user, consent: 'allow' });
      const params = new URLSearchParams(result.callback.hash.slice(1));
      const otherCode = (await browser.authorize(url, { ...user, consent: 'allow' })).callback.hash;
      params.set('code', new URLSearchParams(otherCode.slice(1)).get('code')!);
      const swapped = new URL(REDIRECT_URI);
      swapped.hash = params.toString();
      const error = await client.authorizationCodeGrant(hybrid, swapped, { expectedState: state, expectedNonce: nonce }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).cause).toMatchObject({ message: expect.stringMatching(/c_hash/), cause: { claim: 'c_hash' } });
    });

    it('id_token: openid-client accepts the implicit response in fragment and form_post', async () => {
      const implicit = await register({ response_types: ['id_token'], grant_types: ['implicit'] }, [client.useIdTokenResponseType]);
      for (const mode of ['fragment', 'form_post'] as const) {
        const state = client.randomState();
        const nonce = client.randomNonce();
        const url = client.buildAuthorizationUrl(implicit, { redirect_uri: REDIRECT_URI, response_mode: mode, scope: SCOPE, state, nonce });
        const result = await browser.authorize(url, { ...user, consent: 'allow' });
        const current = mode === 'form_post'
          ? new Request(result.callback, { method: 'POST', body: new URLSearchParams(result.formPost), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
          : result.callback;
        const claims = await client.implicitAuthentication(implicit, current, nonce, { expectedState: state });
        expect(claims.preferred_username).toBe(user.username);
      }
    });

    it('the hybrid code redeems at /token like any other, once; the front-channel access token works at userinfo', async () => {
      const { state, nonce, params } = await run('code id_token token', 'fragment');
      const frontChannel = params.get('access_token')!;
      const userinfo = await client.fetchUserInfo(config, frontChannel, decodeJwt(params.get('id_token')!).sub!);
      expect(userinfo.preferred_username).toBe(user.username);
      const callback = new URL(REDIRECT_URI);
      for (const name of ['code', 'state', 'iss']) callback.searchParams.set(name, params.get(name)!);
      const tokens = await client.authorizationCodeGrant(config, callback, { expectedState: state, expectedNonce: nonce });
      expect(tokens.claims()!.sub).toBe(decodeJwt(params.get('id_token')!).sub);
      expect(tokens.access_token).not.toBe(frontChannel);
      await expect(client.authorizationCodeGrant(config, callback, { expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' });
      // The replay revoked the grant: the front-channel token goes with it (RFC 6749 §4.1.2).
      await expect(client.fetchUserInfo(config, frontChannel, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
    });

    it('the implicit access token is a grant of its own: revoking it ends it at userinfo', async () => {
      const { params } = await run('id_token token', 'fragment');
      const accessToken = params.get('access_token')!;
      await client.fetchUserInfo(config, accessToken, client.skipSubjectCheck);
      await client.tokenRevocation(config, accessToken);
      await expect(client.fetchUserInfo(config, accessToken, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
    });
  });

  describe('response types and modes refused (negative)', () => {
    const browser = new Browser();
    /** The error of an authorization request that is answered at the redirect URI. */
    async function refusal(config: client.Configuration, params: Record<string, string>) {
      const page = await browser.get(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: SCOPE, state: 'st', ...params }));
      expect(page.status).toBe(303);
      const location = new URL(page.location!);
      const fromFragment = new URLSearchParams(location.hash.slice(1));
      return { query: location.searchParams, fragment: fromFragment };
    }

    it('a token-returning response type the client did not register is unauthorized_client, in the fragment', async () => {
      const codeOnly = await register({});
      for (const responseType of ['code id_token', 'id_token', 'id_token token', 'code token']) {
        const { query, fragment } = await refusal(codeOnly, { response_type: responseType, nonce: 'n' });
        expect(fragment.get('error')).toBe('unauthorized_client');
        expect(fragment.get('state')).toBe('st');
        expect(query.has('error')).toBe(false);
      }
    });

    it('open registration cannot register a token-returning response type; the initial access token can', async () => {
      for (const responseType of ['id_token', 'code id_token', 'code token']) {
        const response = await fetch(`${server().issuer}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ redirect_uris: [REDIRECT_URI], response_types: [responseType], grant_types: ['authorization_code', 'implicit'] }),
        });
        expect(response.status).toBe(401); // this deployment requires the initial access token at all
      }
      const registered = await register({ response_types: ['code id_token'], grant_types: ['authorization_code', 'implicit'] });
      expect(registered.clientMetadata().response_types).toEqual(['code id_token']);
    });

    it('implicit and hybrid with an ID token need a nonce: invalid_request', async () => {
      const config = await register({ response_types: ALL_RESPONSE_TYPES, grant_types: ['authorization_code', 'implicit'] });
      for (const responseType of ['id_token', 'id_token token', 'code id_token', 'code id_token token']) {
        const { fragment } = await refusal(config, { response_type: responseType });
        expect(fragment.get('error')).toBe('invalid_request');
        expect(fragment.get('error_description')).toMatch(/nonce/);
      }
    });

    it('response_mode=query with a token-returning response type is refused, and the error does not go in the query', async () => {
      const config = await register({ response_types: ALL_RESPONSE_TYPES, grant_types: ['authorization_code', 'implicit'] });
      for (const responseType of ['id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token']) {
        const { query, fragment } = await refusal(config, { response_type: responseType, response_mode: 'query', nonce: 'n' });
        expect(fragment.get('error')).toBe('invalid_request');
        expect(fragment.get('error_description')).toMatch(/query/);
        expect([...query.keys()]).toEqual([]);
      }
    });

    it('an unknown response mode or response type is refused with the RFC error', async () => {
      const config = await register({ response_types: ALL_RESPONSE_TYPES, grant_types: ['authorization_code', 'implicit'] });
      expect((await refusal(config, { response_type: 'code', response_mode: 'jwt' })).query.get('error')).toBe('invalid_request');
      expect((await refusal(config, { response_type: 'token' })).query.get('error')).toBe('unsupported_response_type');
      expect((await refusal(config, { response_type: 'code code' })).query.get('error')).toBe('unsupported_response_type');
    });

    it('request objects are refused with request_not_supported and request_uri_not_supported (OIDC Core §6)', async () => {
      const config = await register({});
      expect((await refusal(config, { response_type: 'code', request: 'eyJhbGciOiJub25lIn0.e30.' })).query.get('error')).toBe('request_not_supported');
      expect((await refusal(config, { response_type: 'code', request_uri: 'https://rp.example.test/r' })).query.get('error')).toBe('request_uri_not_supported');
    });
  });
}
