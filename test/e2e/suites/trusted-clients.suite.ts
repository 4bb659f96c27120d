import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * What only clients registered with the initial access token may do: the password grant (RFC 6749
 * §4.3) and API scopes for client credentials. Runs against an IdP started with
 * IDP_INITIAL_ACCESS_TOKEN and the given user; the throttle test comes last, since it locks that
 * user out for a while.
 */
const options = (initialAccessToken: string) => ({ execute: [client.allowInsecureRequests], initialAccessToken });

export function describeTrustedClientGrants(
  server: () => IdpUnderTest,
  initialAccessToken: string,
  user: { username: string; password: string },
): void {
  const register = (metadata: Record<string, unknown>) =>
    client.dynamicClientRegistration(
      new URL(server().issuer),
      { response_types: [], redirect_uris: [], ...metadata },
      client.ClientSecretBasic(),
      options(initialAccessToken),
    );
  const passwordClient = (metadata: Record<string, unknown> = {}) =>
    register({ grant_types: ['password', 'refresh_token'], scope: 'openid offline_access profile', ...metadata });
  const passwordGrant = (config: client.Configuration, params: Record<string, string>) =>
    client.genericGrantRequest(config, 'password', params);

  describe('client credentials with API scopes (registered with the initial access token)', () => {
    it('grants the registered API scopes, all by default, a subset on request, invalid_scope beyond', async () => {
      const config = await register({ grant_types: ['client_credentials'], scope: 'orders:read orders:write' });
      expect((await client.clientCredentialsGrant(config)).scope).toBe('orders:read orders:write');
      const narrow = await client.clientCredentialsGrant(config, { scope: 'orders:read' });
      expect(narrow.scope).toBe('orders:read');
      expect(decodeJwt(narrow.access_token).scope).toBe('orders:read');
      await expect(client.clientCredentialsGrant(config, { scope: 'orders:read orders:delete' })).rejects.toMatchObject({ error: 'invalid_scope' });
    });
  });

  describe('password grant (RFC 6749 §4.3)', () => {
    it('exchanges the user\'s password for an access token, an ID token with openid, and a refresh token with offline_access', async () => {
      const config = await passwordClient();
      const tokens = await passwordGrant(config, { ...user, scope: 'openid offline_access profile' });
      expect(tokens.scope).toBe('openid offline_access profile');
      expect(tokens.refresh_token).toEqual(expect.any(String));
      const idToken = tokens.claims()!;
      expect(idToken.aud).toBe(config.clientMetadata().client_id);
      expect(idToken.amr).toEqual(['pwd']);
      expect(idToken.sid).toBeUndefined(); // no browser session was started
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
      expect(userinfo.preferred_username).toBe(user.username);
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(decodeJwt(refreshed.id_token!).sub).toBe(idToken.sub);

      const withoutOffline = await passwordGrant(config, { ...user, scope: 'openid' });
      expect(withoutOffline.refresh_token).toBeUndefined();
    });

    it('refuses a wrong password or an unknown user with invalid_grant, and a client not registered for it with unauthorized_client', async () => {
      const config = await passwordClient();
      await expect(passwordGrant(config, { ...user, password: `${user.password}-wrong`, scope: 'openid' })).rejects.toMatchObject({
        error: 'invalid_grant',
        status: 400,
      });
      await expect(passwordGrant(config, { username: `${user.username}-nobody`, password: user.password, scope: 'openid' })).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      const machine = await register({ grant_types: ['client_credentials'], scope: 'orders:read' });
      await expect(passwordGrant(machine, { ...user, scope: 'openid' })).rejects.toMatchObject({ error: 'unauthorized_client' });
      await expect(passwordGrant(config, { ...user, scope: 'openid email' })).rejects.toMatchObject({ error: 'invalid_scope' });
    });

    it('works unmodified with oauth4webapi', async () => {
      const config = await passwordClient();
      const issuer = new URL(server().issuer);
      const insecure = { [oauth.allowInsecureRequests]: true } as const;
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
      const { client_id, client_secret } = config.clientMetadata();
      const rp: oauth.Client = { client_id };
      const response = await oauth.genericTokenEndpointRequest(
        as,
        rp,
        oauth.ClientSecretBasic(String(client_secret)),
        'password',
        new URLSearchParams({ ...user, scope: 'openid offline_access' }),
        insecure,
      );
      const tokens = await oauth.processGenericTokenEndpointResponse(as, rp, response);
      expect(tokens.refresh_token).toEqual(expect.any(String));
      expect(oauth.getValidatedIdTokenClaims(tokens)?.amr).toEqual(['pwd']);
    });

    // Last: it leaves this server's user throttled for a while.
    it('applies the login throttle: after repeated failures even the right password is invalid_grant for a while', async () => {
      const config = await passwordClient();
      for (let i = 0; i < 6; i++) {
        await expect(passwordGrant(config, { ...user, password: `wrong-${i}`, scope: 'openid' })).rejects.toMatchObject({ error: 'invalid_grant' });
      }
      await expect(passwordGrant(config, { ...user, scope: 'openid' })).rejects.toMatchObject({ error: 'invalid_grant' });
    });
  });
}
