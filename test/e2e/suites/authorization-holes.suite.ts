import * as client from 'openid-client';
import { Browser, hiddenRid, type Page } from '../../support/browser.js';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * The holes a review of the login and consent steps found, each reproduced as the attack it
 * allowed: none may yield a code any more. Runs against a deployment with open registration.
 */
const REDIRECT_URI = 'https://rp.example.test/callback';
const SCOPE = 'openid profile';

export function describeAuthorizationHoles(server: () => IdpUnderTest, user: { username: string; password: string }): void {
  const register = () =>
    client.dynamicClientRegistration(
      new URL(server().issuer),
      { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile' },
      client.ClientSecretBasic(),
      { execute: [client.allowInsecureRequests] },
    );
  const authorizationUrl = (config: client.Configuration, extra: Record<string, string> = {}) =>
    client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: SCOPE, state: client.randomState(), ...extra });
  const consent = (browser: Browser, rid: string, decision = 'allow') =>
    browser.postForm(`${server().issuer}/authorize/consent`, { rid, decision });
  const login = (browser: Browser, rid: string) => browser.postForm(`${server().issuer}/authorize/login`, { rid, ...user });
  /** A browser with a session of the test user (and consent to nothing yet). */
  async function signedIn(): Promise<Browser> {
    const browser = new Browser();
    const config = await register();
    await browser.authorize(authorizationUrl(config), { ...user, consent: 'allow' });
    expect(browser.cookie('idp_session')).toBeDefined();
    return browser;
  }
  const gaveCode = (page: Page) => page.location !== null && new URL(page.location).searchParams.has('code');

  describe('holes in the login and consent steps, closed', () => {
    it('prompt=login cannot be met by posting the consent form with an older session', async () => {
      const browser = await signedIn();
      const config = await register();
      const page = await browser.get(authorizationUrl(config, { prompt: 'login' }));
      expect(page.kind).toBe('login');

      const bypass = await consent(browser, hiddenRid(page.body));

      expect(gaveCode(bypass)).toBe(false);
      expect(bypass.status).toBeGreaterThanOrEqual(400);
      // The honest path still works: this request's own login, then consent.
      const loggedIn = await login(browser, hiddenRid(page.body));
      expect(loggedIn.kind).toBe('consent');
      expect(gaveCode(await consent(browser, hiddenRid(loggedIn.body)))).toBe(true);
    });

    it('max_age cannot be met by posting the consent form with a session older than it', async () => {
      const browser = await signedIn();
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const config = await register();
      const page = await browser.get(authorizationUrl(config, { max_age: '0' }));
      expect(page.kind).toBe('login');

      const bypass = await consent(browser, hiddenRid(page.body));

      expect(gaveCode(bypass)).toBe(false);
      const loggedIn = await login(browser, hiddenRid(page.body));
      expect(loggedIn.kind).toBe('consent');
      const answered = await consent(browser, hiddenRid(loggedIn.body));
      expect(gaveCode(answered)).toBe(true);
    });

    it('a pending request planted in the victim\'s browser (sibling subdomain) does not get a code with the victim\'s session', async () => {
      const victim = await signedIn();
      const attacker = new Browser();
      const config = await register();
      // The attacker starts a request of their own (their PKCE, their state) and plants its cookie.
      const page = await attacker.get(authorizationUrl(config, { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
      expect(page.kind).toBe('login');
      const planted = attacker.cookie('idp_authz')!;
      victim.plant({ name: planted.name, value: planted.value, host: new URL(server().issuer).host });

      const forced = await consent(victim, hiddenRid(page.body));

      expect(gaveCode(forced)).toBe(false);
      expect(forced.status).toBe(400);
    });

    it('a consent page shown to one session cannot be answered with another session swapped in', async () => {
      const victim = await signedIn();
      const attacker = await signedIn();
      const config = await register();
      const page = await attacker.get(authorizationUrl(config));
      expect(page.kind).toBe('consent');
      const authz = attacker.cookie('idp_authz')!;
      victim.plant({ name: authz.name, value: authz.value, host: new URL(server().issuer).host });

      const swapped = await consent(victim, hiddenRid(page.body));

      expect(gaveCode(swapped)).toBe(false);
      expect(gaveCode(await consent(attacker, hiddenRid(page.body)))).toBe(true);
    });

    it('a pending request completes once: replaying the consent form afterwards gives no second code', async () => {
      const browser = await signedIn();
      const config = await register();
      const page = await browser.get(authorizationUrl(config));
      expect(page.kind).toBe('consent');
      const pending = browser.cookie('idp_authz')!;
      const first = await consent(browser, hiddenRid(page.body));
      expect(gaveCode(first)).toBe(true);

      browser.plant({ name: pending.name, value: pending.value, host: pending.host });
      const replay = await consent(browser, hiddenRid(page.body));

      expect(gaveCode(replay)).toBe(false);
      expect(replay.status).toBe(400);
    });

    it('a pending request completes once: of 8 concurrent consent posts exactly one gets a code', async () => {
      const browser = await signedIn();
      const config = await register();
      const page = await browser.get(authorizationUrl(config));
      const rid = hiddenRid(page.body);

      const answers = await Promise.all(Array.from({ length: 8 }, () => consent(browser, rid)));

      expect(answers.filter(gaveCode)).toHaveLength(1);
      expect(answers.filter((a) => a.status === 400)).toHaveLength(7);
    });

    it('POST /authorize with a JSON body (non-string values) is invalid_request, not a server error', async () => {
      const config = await register();
      const body = JSON.stringify({ client_id: config.clientMetadata().client_id, redirect_uri: REDIRECT_URI, response_type: 'code', scope: ['openid'], state: { a: 1 } });
      const response = await fetch(`${server().issuer}/authorize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain('invalid_request');
      // The same request as a form is served (OIDC Core §3.1.2.1).
      const form = new URLSearchParams({ client_id: config.clientMetadata().client_id, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid' });
      const served = await fetch(`${server().issuer}/authorize`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), redirect: 'manual' });
      expect(served.status).toBe(200);
    });

    it('a used code presented by another client does not revoke the grant of the client it was issued to', async () => {
      const owner = await register();
      const other = await register();
      const browser = new Browser();
      const state = client.randomState();
      const result = await browser.authorize(authorizationUrl(owner, { state }), { ...user, consent: 'allow' });
      const tokens = await client.authorizationCodeGrant(owner, result.callback, { expectedState: state });

      await expect(client.authorizationCodeGrant(other, result.callback, { expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' });

      const userinfo = await client.fetchUserInfo(owner, tokens.access_token, client.skipSubjectCheck);
      expect(userinfo.sub).toEqual(expect.any(String));
      // Its own client replaying it still revokes (RFC 6749 §4.1.2): the check can fail.
      await expect(client.authorizationCodeGrant(owner, result.callback, { expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' });
      await expect(client.fetchUserInfo(owner, tokens.access_token, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
    });

    it.each([
      ['an oversized', 'x'.repeat(3_000)],
      ['a malformed', 'not-a-session'],
      ['a well-formed but unknown', `${crypto.randomUUID()}.${'A'.repeat(43)}`],
    ])('%s session cookie counts as no session: the login form, not an error', async (_kind, value) => {
      const browser = new Browser();
      browser.plant({ name: 'idp_session', value, host: new URL(server().issuer).host });
      const config = await register();
      const page = await browser.get(authorizationUrl(config));
      expect(page.status).toBe(200);
      expect(page.kind).toBe('login');
      const prompted = await browser.get(authorizationUrl(config, { prompt: 'none' }));
      expect(new URL(prompted.location!).searchParams.get('error')).toBe('login_required');
    });
  });
}
