import * as client from 'openid-client';
import type { ProfileClaims } from '../../../contracts/profile-claims.js';
import { Browser } from '../../support/browser.js';
import type { IdpUnderTest, TestUser } from '../../support/idp-under-test.js';

/**
 * User claims at userinfo (OIDC Core §5.3, §5.4), run inside the authorization-code suite of each
 * topology: the suite's user is registered with profile claims, and each standard scope releases
 * its claims, and only those, to a client through openid-client.
 */
const REDIRECT_URI = 'https://rp.example.test/claims-cb';
const options = () => ({ execute: [client.allowInsecureRequests] });

/** What the suite's user is registered with: every scope has something to release. */
export const E2E_USER_CLAIMS = {
  name: 'Alice Example',
  given_name: 'Alice',
  family_name: 'Example',
  email: 'alice@example.com',
  email_verified: true,
  phone_number: '+4930555010',
  phone_number_verified: true,
  address: { street_address: 'Example Street 1', locality: 'Berlin', postal_code: '10115', country: 'DE' },
} satisfies ProfileClaims;

export function describeUserClaims(server: () => IdpUnderTest, user: TestUser & { claims: typeof E2E_USER_CLAIMS }): void {
  describe('user claims at userinfo (OIDC Core §5.4)', () => {
    const register = () =>
      client.dynamicClientRegistration(
        new URL(server().issuer),
        { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile email address phone' },
        client.ClientSecretBasic(),
        options(),
      );

    async function tokensFor(config: client.Configuration, scope: string) {
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope, state });
      const { callback } = await new Browser().authorize(url, { username: user.username, password: user.password, consent: 'allow' });
      return client.authorizationCodeGrant(config, callback, { expectedState: state });
    }

    async function userinfo(config: client.Configuration, scope: string) {
      const tokens = await tokensFor(config, scope);
      expect(tokens.scope).toBe(scope);
      const sub = tokens.claims()!.sub;
      return { sub, claims: await client.fetchUserInfo(config, tokens.access_token, sub) };
    }

    it('scopes address and phone: the address object and the phone claims, nothing of profile or email', async () => {
      const config = await register();
      const { sub, claims } = await userinfo(config, 'openid address phone');
      expect(claims).toEqual({
        sub,
        address: user.claims.address,
        phone_number: user.claims.phone_number,
        phone_number_verified: true,
      });
    });

    it('scopes profile and email: names, preferred_username, updated_at and the email, no address or phone', async () => {
      const config = await register();
      const before = Math.floor(Date.now() / 1000);
      const { sub, claims } = await userinfo(config, 'openid profile email');
      expect(claims).toEqual({
        sub,
        name: user.claims.name,
        given_name: user.claims.given_name,
        family_name: user.claims.family_name,
        preferred_username: user.username,
        updated_at: expect.any(Number),
        email: user.claims.email,
        email_verified: true,
      });
      // Set when the user was registered, at the deployment's start.
      expect(claims.updated_at as number).toBeLessThanOrEqual(before + 5);
    });

    it('discovery names the claims and scopes', async () => {
      const metadata = (await (await fetch(`${server().issuer}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
      expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['address', 'phone']));
      expect(metadata.claims_supported).toEqual(expect.arrayContaining(['address', 'phone_number', 'phone_number_verified', 'birthdate', 'updated_at']));
      expect(metadata.acr_values_supported).toEqual(['0']);
      expect(metadata.claim_types_supported).toEqual(['normal']);
    });
  });
}
