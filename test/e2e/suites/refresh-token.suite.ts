import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { Browser } from '../../support/browser.js';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * Refresh tokens (RFC 6749 §6, RFC 9700 §4.14), through openid-client and oauth4webapi: issued
 * for offline_access (OIDC Core §11) or, without openid, by the client's registered grant; rotated
 * on every use; a reused rotated token kills the lineage; an opt-in grace window hands the same
 * successor back; bound to the client; narrower scope on request, never wider.
 */
const REDIRECT_URI = 'https://rp.example.test/refresh-cb';
const options = () => ({ execute: [client.allowInsecureRequests] });

export function describeRefreshTokens(server: () => IdpUnderTest, user: { username: string; password: string }): void {
  describe('refresh tokens (RFC 6749 §6)', () => {
    const register = (metadata: Record<string, unknown> = {}) =>
      client.dynamicClientRegistration(
        new URL(server().issuer),
        {
          redirect_uris: [REDIRECT_URI],
          grant_types: ['authorization_code', 'refresh_token'],
          scope: 'openid offline_access profile email',
          ...metadata,
        },
        client.ClientSecretBasic(),
        options(),
      );

    async function codeFlow(config: client.Configuration, scope = 'openid offline_access profile') {
      const state = client.randomState();
      // Plain OAuth (no openid): no nonce, and openid-client then expects no ID token.
      const nonce = scope.split(' ').includes('openid') ? client.randomNonce() : undefined;
      const verifier = client.randomPKCECodeVerifier();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope,
        state,
        ...(nonce ? { nonce } : {}),
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const { callback } = await new Browser().authorize(url, { ...user, consent: 'allow' });
      return client.authorizationCodeGrant(config, callback, {
        expectedState: state,
        pkceCodeVerifier: verifier,
        ...(nonce ? { expectedNonce: nonce } : { idTokenExpected: false }),
      });
    }

    const introspect = (config: client.Configuration, token: string) => client.tokenIntrospection(config, token);
    const userinfoStatus = async (token: string) =>
      (await fetch(`${server().issuer}/userinfo`, { headers: { authorization: `Bearer ${token}` } })).status;

    it('rotates the refresh token on every use, with a fresh access token and ID token (OIDC Core §12.2)', async () => {
      const config = await register();
      const first = await codeFlow(config);
      expect(first.refresh_token).toEqual(expect.any(String));
      const firstClaims = decodeJwt(first.id_token!);

      const second = await client.refreshTokenGrant(config, first.refresh_token!);
      expect(second.refresh_token).toEqual(expect.any(String));
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.access_token).not.toBe(first.access_token);
      expect(second.scope).toBe('openid offline_access profile');
      const idToken = (await jwtVerify(second.id_token!, createRemoteJWKSet(new URL(`${server().issuer}/jwks`)), { issuer: server().issuer }))
        .payload;
      // Same user, same original authentication; no nonce on a refreshed ID token.
      expect(idToken).toMatchObject({ sub: firstClaims.sub, auth_time: firstClaims.auth_time, aud: config.clientMetadata().client_id });
      expect(idToken.nonce).toBeUndefined();

      const third = await client.refreshTokenGrant(config, second.refresh_token!);
      expect(await userinfoStatus(third.access_token)).toBe(200);
      expect(await introspect(config, third.access_token)).toMatchObject({ active: true, sub: firstClaims.sub });
    });

    it('gives a narrower scope on request (RFC 6749 §6) and refuses a wider one with invalid_scope', async () => {
      const config = await register();
      const tokens = await codeFlow(config);
      const narrower = await client.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid' });
      expect(narrower.scope).toBe('openid');
      expect((await introspect(config, narrower.access_token)).scope).toBe('openid');
      // The refresh token keeps the grant's scope: the next refresh may ask for all of it again.
      const again = await client.refreshTokenGrant(config, narrower.refresh_token!);
      expect(again.scope).toBe('openid offline_access profile');
      await expect(client.refreshTokenGrant(config, again.refresh_token!, { scope: 'openid email' })).rejects.toMatchObject({ error: 'invalid_scope' });
      // A refused scope does not use the token up.
      await client.refreshTokenGrant(config, again.refresh_token!);
    });

    it('a reused rotated token is invalid_grant and kills the lineage: every access and refresh token of the grant', async () => {
      const config = await register();
      const first = await codeFlow(config);
      const second = await client.refreshTokenGrant(config, first.refresh_token!);
      expect(await userinfoStatus(second.access_token)).toBe(200);

      await expect(client.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect(await introspect(config, second.access_token)).toEqual({ active: false });
      expect(await introspect(config, first.access_token)).toEqual({ active: false });
      expect(await userinfoStatus(second.access_token)).toBe(401);
      await expect(client.refreshTokenGrant(config, second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    it('inside the client\'s grace window the same rotated token gets the same successor; once that is used, reuse kills the lineage', async () => {
      const config = await register({ refresh_token_reuse_grace_seconds: 30 });
      const first = await codeFlow(config);
      const second = await client.refreshTokenGrant(config, first.refresh_token!);
      const repeated = await client.refreshTokenGrant(config, first.refresh_token!);
      expect(repeated.refresh_token).toBe(second.refresh_token);
      expect(repeated.access_token).not.toBe(second.access_token);
      expect(await userinfoStatus(repeated.access_token)).toBe(200);

      const third = await client.refreshTokenGrant(config, second.refresh_token!);
      await expect(client.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect(await introspect(config, third.access_token)).toEqual({ active: false });
    });

    it('is bound to its client: another client presenting it gets invalid_grant and the lineage lives on', async () => {
      const owner = await register();
      const thief = await register();
      const tokens = await codeFlow(owner);
      await expect(client.refreshTokenGrant(thief, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      const refreshed = await client.refreshTokenGrant(owner, tokens.refresh_token!);
      expect(await userinfoStatus(refreshed.access_token)).toBe(200);
    });

    it('follows the refresh policy: none without offline_access for openid, none without the registered grant; one for plain OAuth', async () => {
      const config = await register();
      expect((await codeFlow(config, 'openid profile')).refresh_token).toBeUndefined();
      expect((await codeFlow(config, 'profile')).refresh_token).toEqual(expect.any(String));
      const noRefreshGrant = await register({ grant_types: ['authorization_code'] });
      expect((await codeFlow(noRefreshGrant)).refresh_token).toBeUndefined();
    });

    it('revoking the refresh token (RFC 7009) revokes the grant\'s access tokens too', async () => {
      const config = await register();
      const tokens = await codeFlow(config);
      await client.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
      expect(await introspect(config, tokens.access_token)).toEqual({ active: false });
      await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    it('introspects a refresh token for its own client only: active until rotated, whatever the hint (RFC 7662 §2.1)', async () => {
      const config = await register();
      const other = await register();
      const tokens = await codeFlow(config);
      const sub = decodeJwt(tokens.id_token!).sub;
      // An unknown hint, even an absurd one, is ignored (RFC 7662 §2.1), never an error.
      for (const hint of ['refresh_token', 'access_token', 'h'.repeat(100)]) {
        expect(await client.tokenIntrospection(config, tokens.refresh_token!, { token_type_hint: hint })).toMatchObject({
          active: true,
          token_type: 'refresh_token',
          client_id: config.clientMetadata().client_id,
          sub,
          scope: 'openid offline_access profile',
        });
      }
      expect(await client.tokenIntrospection(other, tokens.refresh_token!)).toEqual({ active: false });
      const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(await client.tokenIntrospection(config, tokens.refresh_token!)).toEqual({ active: false });
      expect(await client.tokenIntrospection(config, rotated.refresh_token!)).toMatchObject({ active: true });
      expect(await client.tokenIntrospection(config, rotated.access_token, { token_type_hint: 'refresh_token' })).toMatchObject({
        active: true,
        token_type: 'Bearer',
      });
    });

    it('works unmodified with oauth4webapi', async () => {
      const config = await register();
      const tokens = await codeFlow(config);
      const issuer = new URL(server().issuer);
      const insecure = { [oauth.allowInsecureRequests]: true } as const;
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
      const { client_id, client_secret } = config.clientMetadata();
      const rp: oauth.Client = { client_id };
      const auth = oauth.ClientSecretBasic(String(client_secret));
      const response = await oauth.refreshTokenGrantRequest(as, rp, auth, tokens.refresh_token!, insecure);
      const refreshed = await oauth.processRefreshTokenResponse(as, rp, response);
      expect(refreshed.refresh_token).toEqual(expect.any(String));
      expect(oauth.getValidatedIdTokenClaims(refreshed)?.sub).toBe(decodeJwt(tokens.id_token!).sub);
      const reused = await oauth.refreshTokenGrantRequest(as, rp, auth, tokens.refresh_token!, insecure);
      await expect(oauth.processRefreshTokenResponse(as, rp, reused)).rejects.toMatchObject({ error: 'invalid_grant' });
    });
  });
}
