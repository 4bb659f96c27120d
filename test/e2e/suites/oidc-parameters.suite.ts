import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { Browser } from '../../support/browser.js';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * The OIDC Core §3.1.2.1 and §5.5 request parameters a certified OP honours, through
 * openid-client: `claims` (with essential claims), `acr_values` and an essential `acr`,
 * `id_token_hint`, `login_hint`, `display`. The suite's user has profile claims
 * (user-claims.suite.ts).
 */
const REDIRECT_URI = 'https://rp.example.test/params-cb';

export function describeOidcRequestParameters(server: () => IdpUnderTest, user: { username: string; password: string; claims: { email: string; phone_number: string } }): void {
  const register = () =>
    client.dynamicClientRegistration(
      new URL(server().issuer),
      { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile email address phone' },
      client.ClientSecretBasic(),
      { execute: [client.allowInsecureRequests] },
    );

  async function flow(config: client.Configuration, browser: Browser, params: Record<string, string>) {
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state, nonce, ...params });
    const { callback } = await browser.authorize(url, { username: user.username, password: user.password, consent: 'allow' });
    return { callback, state, nonce };
  }
  const redeem = (config: client.Configuration, run: { callback: URL; state: string; nonce: string }) =>
    client.authorizationCodeGrant(config, run.callback, { expectedState: run.state, expectedNonce: run.nonce });

  describe('OIDC request parameters (OIDC Core §3.1.2.1, §5.5)', () => {
    it('claims: the id_token member puts claims in the ID token, the userinfo member at userinfo, beyond the scope', async () => {
      const config = await register();
      const claims = JSON.stringify({ id_token: { email: { essential: true }, address: null, no_such_claim: null }, userinfo: { phone_number: null } });
      const tokens = await redeem(config, await flow(config, new Browser(), { claims }));

      const idToken = tokens.claims()!;
      expect(idToken.email).toBe(user.claims.email);
      expect(idToken.address).toEqual(expect.objectContaining({ country: 'DE' }));
      expect(idToken.name).toBeUndefined(); // profile was neither in the scope nor asked for
      expect(idToken.no_such_claim).toBeUndefined();
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
      expect(userinfo.phone_number).toBe(user.claims.phone_number);
      expect(userinfo.email).toBeUndefined(); // asked for in the ID token only
      // A refresh's ID token keeps honouring the grant's claims request (no refresh here: no offline_access).
      expect(tokens.refresh_token).toBeUndefined();
    });

    it('claims named one by one need consent like their scope; a claim of a scope the client did not register is not released', async () => {
      const config = await register();
      const browser = new Browser();
      // Consent to openid only.
      await redeem(config, await flow(config, browser, {}));
      // The same client now names email one by one: the user is asked again, for email.
      const claims = JSON.stringify({ id_token: { email: null } });
      const page = await browser.get(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', nonce: 'n', claims }));
      expect(page.kind).toBe('consent');
      expect(page.body).toContain('<code>email</code>');
      // A client registered for openid alone gets no email however it asks.
      const narrow = await client.dynamicClientRegistration(
        new URL(server().issuer),
        { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid' },
        client.ClientSecretBasic(),
        { execute: [client.allowInsecureRequests] },
      );
      const tokens = await redeem(narrow, await flow(narrow, browser, { claims: JSON.stringify({ id_token: { email: null, address: null }, userinfo: { phone_number: null } }) }));
      expect(tokens.claims()!.email).toBeUndefined();
      expect(tokens.claims()!.address).toBeUndefined();
      const userinfo = await client.fetchUserInfo(narrow, tokens.access_token, tokens.claims()!.sub);
      expect(userinfo.phone_number).toBeUndefined();
    });

    it('claims: a sub asked for by value answers only for that user (OIDC Core §5.5.1)', async () => {
      const config = await register();
      const browser = new Browser();
      const sub = (await redeem(config, await flow(config, browser, {}))).claims()!.sub;
      const other = JSON.stringify({ id_token: { sub: { value: 'someone-else' } } });
      const refused = await browser.get(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', prompt: 'none', claims: other }));
      expect(new URL(refused.location!).searchParams.get('error')).toBe('login_required');
      const same = JSON.stringify({ id_token: { sub: { value: sub } } });
      const tokens = await redeem(config, await flow(config, browser, { claims: same, prompt: 'none' }));
      expect(tokens.claims()!.sub).toBe(sub);
    });

    it('claims: malformed JSON or members are invalid_request at the redirect URI', async () => {
      const config = await register();
      for (const claims of ['{not json', '[]', '{"id_token":{"email":{"essential":"yes"}}}']) {
        const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', claims });
        const page = await new Browser().get(url);
        expect(page.status).toBe(303);
        expect(new URL(page.location!).searchParams.get('error')).toBe('invalid_request');
      }
    });

    it('acr_values are voluntary; an essential acr the login cannot meet is access_denied, one it meets is carried', async () => {
      const config = await register();
      const browser = new Browser();
      const voluntary = await redeem(config, await flow(config, browser, { acr_values: 'urn:mace:incommon:iap:gold' }));
      const sessionAcr = voluntary.claims()!.acr;
      expect(sessionAcr).toEqual(expect.any(String));

      const unmet = JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:mace:incommon:iap:gold'] } } });
      const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', claims: unmet });
      const refused = await browser.get(url);
      expect(new URL(refused.location!).searchParams.get('error')).toBe('access_denied');

      const met = JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:mace:incommon:iap:gold', sessionAcr] } } });
      const tokens = await redeem(config, await flow(config, browser, { claims: met }));
      expect(tokens.claims()!.acr).toBe(sessionAcr);
    });

    it('id_token_hint: the hinted user with a session gets an answer without a form; a hint for another client or not ours is invalid_request', async () => {
      const config = await register();
      const other = await register();
      const browser = new Browser();
      const first = await redeem(config, await flow(config, browser, {}));
      const hint = first.id_token!;

      const silent = await flow(config, browser, { id_token_hint: hint, prompt: 'none' });
      expect((await redeem(config, silent)).claims()!.sub).toBe(decodeJwt(hint).sub);

      const foreign = await browser.get(client.buildAuthorizationUrl(other, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', id_token_hint: hint }));
      expect(new URL(foreign.location!).searchParams.get('error')).toBe('invalid_request');
      const [header, payload] = hint.split('.');
      const forged = `${header}.${payload}.${'A'.repeat(342)}`;
      const notOurs = await browser.get(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', id_token_hint: forged }));
      expect(new URL(notOurs.location!).searchParams.get('error')).toBe('invalid_request');
      // Without a session, prompt=none with a valid hint is login_required.
      const fresh = await new Browser().get(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', id_token_hint: hint, prompt: 'none' }));
      expect(new URL(fresh.location!).searchParams.get('error')).toBe('login_required');
    });

    it('login_hint fills in the username; display is accepted when valid, refused otherwise', async () => {
      const config = await register();
      const page = await new Browser().get(
        client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', login_hint: 'someone@example.com', display: 'touch' }),
      );
      expect(page.kind).toBe('login');
      expect(page.body).toMatch(/<input[^>]*id="username"[^>]*value="someone@example\.com"/);
      const bad = await new Browser().get(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', display: 'fullscreen' }));
      expect(new URL(bad.location!).searchParams.get('error')).toBe('invalid_request');
    });

    it('discovery says what is supported', async () => {
      const metadata = (await (await fetch(`${server().issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(metadata).toMatchObject({
        claims_parameter_supported: true,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        display_values_supported: ['page', 'popup', 'touch', 'wap'],
      });
      expect(metadata.response_types_supported).toEqual(expect.arrayContaining(['code', 'id_token', 'code id_token token']));
      expect(metadata.ui_locales_supported).toEqual(expect.arrayContaining(['en', 'de']));
    });
  });
}
