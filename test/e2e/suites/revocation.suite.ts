import * as client from 'openid-client';
import { Browser } from '../../support/browser.js';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * Token revocation (RFC 7009) through openid-client, run inside the authorization-code suite of
 * each topology: a client revokes its own token and the very next introspection and userinfo
 * call refuse it; revoking garbage is 200; another client's revocation has no effect.
 */
const REDIRECT_URI = 'https://rp.example.test/revocation-cb';
const options = () => ({ execute: [client.allowInsecureRequests] });

export function describeTokenRevocation(server: () => IdpUnderTest, user: { username: string; password: string }): void {
  describe('token revocation (RFC 7009)', () => {
    const register = (method: 'client_secret_basic' | 'none') =>
      client.dynamicClientRegistration(
        new URL(server().issuer),
        { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: method, scope: 'openid profile' },
        method === 'none' ? client.None() : client.ClientSecretBasic(),
        options(),
      );

    async function accessToken(config: client.Configuration, pkce = false): Promise<string> {
      const state = client.randomState();
      const verifier = pkce ? client.randomPKCECodeVerifier() : undefined;
      const params: Record<string, string> = { redirect_uri: REDIRECT_URI, scope: 'openid profile', state };
      if (verifier) Object.assign(params, { code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
      const { callback } = await new Browser().authorize(client.buildAuthorizationUrl(config, params), { ...user, consent: 'allow' });
      return (await client.authorizationCodeGrant(config, callback, { expectedState: state, ...(verifier ? { pkceCodeVerifier: verifier } : {}) }))
        .access_token;
    }

    const userinfo = async (token: string) =>
      (await fetch(`${server().issuer}/userinfo`, { headers: { authorization: `Bearer ${token}` } })).status;

    it('a client revokes its own access token: the next introspection and userinfo call refuse it', async () => {
      const config = await register('client_secret_basic');
      const token = await accessToken(config);
      expect(await userinfo(token)).toBe(200);
      await client.tokenRevocation(config, token, { token_type_hint: 'access_token' });
      expect(await client.tokenIntrospection(config, token)).toEqual({ active: false });
      expect(await userinfo(token)).toBe(401);
      // Revoking it again, or garbage, is no error (RFC 7009 §2.2).
      await client.tokenRevocation(config, token);
      await client.tokenRevocation(config, 'not-a-token');
    });

    it('a public client revokes its own token with its client_id (RFC 7009 §5)', async () => {
      const config = await register('none');
      const token = await accessToken(config, true);
      await client.tokenRevocation(config, token);
      expect(await userinfo(token)).toBe(401);
    });

    it("another client's revocation request has no effect, and an unauthenticated one is 401", async () => {
      const owner = await register('client_secret_basic');
      const other = await register('client_secret_basic');
      const token = await accessToken(owner);
      await client.tokenRevocation(other, token);
      expect(await client.tokenIntrospection(owner, token)).toMatchObject({ active: true });
      expect(await userinfo(token)).toBe(200);
      const anonymous = await fetch(`${server().issuer}/revoke`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${owner.clientMetadata().client_id}:wrong`).toString('base64')}`,
        },
        body: new URLSearchParams({ token }).toString(),
      });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(await userinfo(token)).toBe(200);
    });

    it('is advertised in discovery', async () => {
      const metadata = (await (await fetch(`${server().issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(metadata.revocation_endpoint).toBe(`${server().issuer}/revoke`);
      expect(metadata.revocation_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
    });
  });
}
