import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { Browser } from '../../support/browser.js';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * Token introspection (RFC 7662) through openid-client, run inside the authorization-code suite
 * of each topology (same deployment, same user): the client that got the token learns about it,
 * nobody else does, an unauthenticated caller gets 401, and a revocation is visible at once.
 */
const REDIRECT_URI = 'https://rp.example.test/introspection-cb';
const options = () => ({ execute: [client.allowInsecureRequests] });

export function describeTokenIntrospection(server: () => IdpUnderTest, user: { username: string; password: string }): void {
  describe('token introspection (RFC 7662)', () => {
    const register = (method: 'client_secret_basic' | 'client_secret_post' | 'none') =>
      client.dynamicClientRegistration(
        new URL(server().issuer),
        { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: method, scope: 'openid profile' },
        { client_secret_basic: client.ClientSecretBasic, client_secret_post: client.ClientSecretPost, none: client.None }[method](),
        options(),
      );

    async function tokens(config: client.Configuration): Promise<{ code: string; accessToken: string }> {
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile', state });
      const { callback } = await new Browser().authorize(url, { ...user, consent: 'allow' });
      const response = await client.authorizationCodeGrant(config, callback, { expectedState: state });
      return { code: callback.searchParams.get('code')!, accessToken: response.access_token };
    }

    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${server().issuer}/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(body).toString(),
      });

    it('tells the client its own token is active, with the RFC 7662 fields', async () => {
      const config = await register('client_secret_basic');
      const { accessToken } = await tokens(config);
      const answer = await client.tokenIntrospection(config, accessToken, { token_type_hint: 'access_token' });
      expect(answer).toMatchObject({
        active: true,
        client_id: config.clientMetadata().client_id,
        scope: 'openid profile',
        iss: server().issuer,
        aud: server().issuer,
        token_type: 'Bearer',
      });
      expect(answer.sub).toEqual(expect.any(String));
      expect(answer.exp! - answer.iat!).toBeGreaterThan(0);
      expect(answer.jti).toEqual(expect.any(String));
      // client_secret_post works too, and a hint that does not fit changes nothing.
      const post = await register('client_secret_post');
      const own = await tokens(post);
      expect(await client.tokenIntrospection(post, own.accessToken, { token_type_hint: 'refresh_token' })).toMatchObject({ active: true });
    });

    it("answers {active:false} for another client's token and for garbage, so tokens cannot be read across clients", async () => {
      const owner = await register('client_secret_basic');
      const other = await register('client_secret_basic');
      const { accessToken } = await tokens(owner);
      expect(await client.tokenIntrospection(other, accessToken)).toEqual({ active: false });
      expect(await client.tokenIntrospection(owner, 'not-a-token')).toEqual({ active: false });
      expect(await client.tokenIntrospection(owner, `${accessToken.slice(0, -4)}AAAA`)).toEqual({ active: false });
    });

    it('refuses an unauthenticated caller with 401 and a challenge, never an answer, also a public client', async () => {
      const owner = await register('client_secret_basic');
      const { accessToken } = await tokens(owner);
      const anonymous = await post({ token: accessToken });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(await anonymous.json()).toMatchObject({ error: 'invalid_client' });
      const publicClient = await register('none');
      const asPublic = await post({ token: accessToken, client_id: publicClient.clientMetadata().client_id });
      expect(asPublic.status).toBe(401);
      const wrongSecret = await post(
        { token: accessToken },
        { authorization: `Basic ${Buffer.from(`${owner.clientMetadata().client_id}:wrong`).toString('base64')}` },
      );
      expect(wrongSecret.status).toBe(401);
      const missingToken = await post({}, { authorization: basic(owner) });
      expect(missingToken.status).toBe(400);
      expect(await missingToken.json()).toMatchObject({ error: 'invalid_request' });
    });

    it('shows a revocation at the very next introspection: a replayed code turns its token inactive', async () => {
      const config = await register('client_secret_basic');
      const { code, accessToken } = await tokens(config);
      expect(await client.tokenIntrospection(config, accessToken)).toMatchObject({ active: true });
      const replay = await fetch(`${server().issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(config) },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }).toString(),
      });
      expect(replay.status).toBe(400);
      expect(await client.tokenIntrospection(config, accessToken)).toEqual({ active: false });
    });

    it('answers with a signed JWT on Accept: application/token-introspection+jwt (RFC 9701), verified by oauth4webapi', async () => {
      const config = await register('client_secret_basic');
      const { accessToken } = await tokens(config);
      const { client_id: clientId, client_secret: secret } = config.clientMetadata();
      // A second, independent client library: discovery, the request and the JWT checks.
      const issuer = new URL(server().issuer);
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
      const rp: oauth.Client = { client_id: clientId, introspection_signed_response_alg: 'RS256' };
      const response = await oauth.introspectionRequest(as, rp, oauth.ClientSecretBasic(String(secret)), accessToken, {
        requestJwtResponse: true,
        [oauth.allowInsecureRequests]: true,
      });
      expect(response.headers.get('content-type')).toMatch(/^application\/token-introspection\+jwt/);
      const answer = await oauth.processIntrospectionResponse(as, rp, response);
      expect(answer).toMatchObject({ active: true, client_id: clientId, token_type: 'Bearer' });
      // Another client's token, asked for as a JWT: a signed {active:false}.
      const other = await register('client_secret_basic');
      const foreign = await oauth.introspectionRequest(as, { client_id: other.clientMetadata().client_id, introspection_signed_response_alg: 'RS256' }, oauth.ClientSecretBasic(String(other.clientMetadata().client_secret)), accessToken, {
        requestJwtResponse: true,
        [oauth.allowInsecureRequests]: true,
      });
      expect(await oauth.processIntrospectionResponse(as, { client_id: other.clientMetadata().client_id, introspection_signed_response_alg: 'RS256' }, foreign)).toMatchObject({ active: false });
    });

    it('is advertised in discovery', async () => {
      const metadata = (await (await fetch(`${server().issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(metadata.introspection_endpoint).toBe(`${server().issuer}/introspect`);
      expect(metadata.introspection_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post']);
      expect(metadata.introspection_signing_alg_values_supported).toEqual(['RS256']);
    });
  });
}

function basic(config: client.Configuration): string {
  const { client_id: id, client_secret: secret } = config.clientMetadata();
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(String(secret))}`).toString('base64')}`;
}
