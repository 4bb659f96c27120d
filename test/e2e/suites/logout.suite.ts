import { generateKeyPair, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { Browser, type Page } from '../../support/browser.js';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * RP-Initiated Logout 1.0 end to end, run inside the authorization-code suite of each topology:
 * openid-client builds the end_session_endpoint URL, a cookie-keeping browser follows it. With
 * an ID token hint of the current session the OP logs out at once and sends the browser back to
 * the registered post_logout_redirect_uri with the RP's state; without one it asks first, with a
 * form bound to the session cookie. Every refusal is an error page that redirects nowhere and
 * ends nothing.
 */
const REDIRECT_URI = 'https://rp.example.test/logout-cb';
const POST_LOGOUT = 'https://rp.example.test/signed-out';
const options = () => ({ execute: [client.allowInsecureRequests] });

export function describeRpInitiatedLogout(server: () => IdpUnderTest, user: { username: string; password: string }): void {
  describe('RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0)', () => {
    const register = (extra: Record<string, unknown> = {}) =>
      client.dynamicClientRegistration(
        new URL(server().issuer),
        { redirect_uris: [REDIRECT_URI], post_logout_redirect_uris: [POST_LOGOUT], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile', ...extra },
        client.ClientSecretBasic(),
        options(),
      );

    /** A code flow in `browser` (logging in if needed): the ID token the client got. */
    async function signIn(config: client.Configuration, browser: Browser): Promise<{ idToken: string; sid: string }> {
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile', state });
      const { callback } = await browser.authorize(url, { ...user, consent: 'allow' });
      const tokens = await client.authorizationCodeGrant(config, callback, { expectedState: state });
      return { idToken: tokens.id_token!, sid: String(tokens.claims()!.sid) };
    }

    /** Whether the browser's session still signs it in: the next authorization shows no login form. */
    async function signedIn(config: client.Configuration, browser: Browser): Promise<boolean> {
      const page = await browser.get(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile', state: 's' }));
      if (page.kind === 'login') return false;
      expect(page.status).toBe(303);
      return true;
    }

    const confirmationOf = (page: Page) => {
      const input = /<input\b[^>]*\bname="confirmation"[^>]*>/i.exec(page.body)?.[0];
      const value = input ? /\bvalue="([^"]*)"/i.exec(input)?.[1] : undefined;
      if (value === undefined) throw new Error(`no confirmation form on the page:\n${page.body.slice(0, 1500)}`);
      return value;
    };

    function expectErrorPage(page: Page): void {
      expect(page.status).toBe(400);
      expect(page.location).toBeNull();
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.body).toContain('invalid_request');
    }

    it('discovery advertises the end_session_endpoint and back-channel logout with sid', async () => {
      const metadata = (await (await fetch(`${server().issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(metadata.end_session_endpoint).toBe(`${server().issuer}/logout`);
      expect(metadata).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
    });

    it('registration returns the logout metadata, and so does the RFC 7592 read; a back-channel URI needs the initial access token', async () => {
      const config = await register({ backchannel_logout_session_required: true });
      const metadata = config.clientMetadata();
      expect(metadata.post_logout_redirect_uris).toEqual([POST_LOGOUT]);
      expect(metadata.backchannel_logout_session_required).toBe(true);
      const read = await fetch(String(metadata.registration_client_uri), { headers: { authorization: `Bearer ${String(metadata.registration_access_token)}` } });
      expect(await read.json()).toMatchObject({ post_logout_redirect_uris: [POST_LOGOUT], backchannel_logout_session_required: true });
      // SSRF: the server POSTs to it, so open registration may not choose where.
      await expect(register({ backchannel_logout_uri: 'https://rp.example.test/bc' })).rejects.toMatchObject({ error: 'invalid_client_metadata' });
    });

    it('with the ID token of this session and a registered post_logout_redirect_uri: 303 there with the state, the session is gone, session.ended is in the log', async () => {
      const config = await register();
      const browser = new Browser();
      const { idToken, sid } = await signIn(config, browser);
      expect(await signedIn(config, browser)).toBe(true);
      const watch = await server().watchLog!();
      try {
        const state = client.randomState();
        const url = client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT, state });

        const page = await browser.get(url);

        expect(page.status).toBe(303);
        const location = new URL(page.location!);
        expect(location.origin + location.pathname).toBe(POST_LOGOUT);
        expect(location.searchParams.get('state')).toBe(state);
        expect(page.headers.get('cache-control')).toBe('no-store');
        // The browser forgets the session cookie, and the session itself is over.
        expect(browser.cookie('idp_session')).toBeUndefined();
        expect(await watch.appended()).toEqual(['session.ended']);
        expect(decodeJwt(idToken).sid).toBe(sid);
      } finally {
        await watch.close();
      }
      expect(await signedIn(config, browser)).toBe(false);
    });

    it('the session ends on the server, not only in the browser: its old cookie no longer signs anyone in', async () => {
      const config = await register();
      const browser = new Browser();
      const { idToken } = await signIn(config, browser);
      const stolen = browser.cookie('idp_session')!;
      await browser.get(client.buildEndSessionUrl(config, { id_token_hint: idToken }));
      const replay = await fetch(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's' }), {
        headers: { cookie: `${stolen.name}=${stolen.value}` },
        redirect: 'manual',
      });
      expect(replay.status).toBe(200);
      expect(await replay.text()).toContain('action="/authorize/login"');
    });

    it('POST with a form works like GET; without a redirect URI the user sees the signed-out page', async () => {
      const config = await register();
      const browser = new Browser();
      const { idToken } = await signIn(config, browser);
      const page = await browser.postForm(`${server().issuer}/logout`, { id_token_hint: idToken });
      expect(page.status).toBe(200);
      expect(page.location).toBeNull();
      expect(page.body).toMatch(/signed out/i);
      expect(await signedIn(config, browser)).toBe(false);
    });

    it('without a hint the OP asks; confirming logs out and shows the signed-out page, never a redirect (RP-Initiated Logout §3)', async () => {
      const config = await register();
      const browser = new Browser();
      await signIn(config, browser);
      const watch = await server().watchLog!();
      try {
        const confirm = await browser.get(client.buildEndSessionUrl(config, { post_logout_redirect_uri: POST_LOGOUT, state: 'xyz', ui_locales: 'de' }));
        expect(confirm.status).toBe(200);
        // In the language the RP asked for (ui_locales).
        expect(confirm.headers.get('content-language')).toBe('de');
        expect(confirm.body).toContain('<html lang="de">');
        expect(confirm.body).toContain('action="/logout/confirm"');
        expect(await watch.appended()).toEqual([]);
        expect(await signedIn(config, browser)).toBe(true);

        const done = await browser.postForm(`${server().issuer}/logout/confirm`, { confirmation: confirmationOf(confirm) });

        expect(done.status).toBe(200);
        expect(done.location).toBeNull();
        // (signedIn issued a code above.)
        expect((await watch.appended()).filter((type) => type.startsWith('session.'))).toEqual(['session.ended']);
      } finally {
        await watch.close();
      }
      expect(await signedIn(config, browser)).toBe(false);
    });

    it("a hint of an earlier session of the user is no proof for this one: the OP asks", async () => {
      const config = await register();
      const browser = new Browser();
      const { idToken: old } = await signIn(config, browser);
      await browser.get(client.buildEndSessionUrl(config, { id_token_hint: old }));
      await signIn(config, browser);
      const page = await browser.get(client.buildEndSessionUrl(config, { id_token_hint: old, post_logout_redirect_uri: POST_LOGOUT }));
      expect(page.status).toBe(200);
      expect(page.body).toContain('action="/logout/confirm"');
      expect(await signedIn(config, browser)).toBe(true);
    });

    it('confirming twice at once ends the session once', async () => {
      const config = await register();
      const browser = new Browser();
      await signIn(config, browser);
      const confirmation = confirmationOf(await browser.get(client.buildEndSessionUrl(config, {})));
      const cookie = browser.cookie('idp_session')!;
      const watch = await server().watchLog!();
      try {
        const answers = await Promise.all(
          [1, 2, 3].map(() =>
            fetch(`${server().issuer}/logout/confirm`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${cookie.name}=${cookie.value}` },
              body: new URLSearchParams({ confirmation }).toString(),
              redirect: 'manual',
            }),
          ),
        );
        expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
        expect(await watch.appended()).toEqual(['session.ended']);
      } finally {
        await watch.close();
      }
    });

    it('an oversized or malformed session cookie is no session at logout either: the signed-out page, not an error', async () => {
      for (const value of ['x'.repeat(3_000), 'not-a-session']) {
        const browser = new Browser();
        browser.plant({ name: 'idp_session', value, host: new URL(server().issuer).host });
        const page = await browser.get(`${server().issuer}/logout`);
        expect(page.status).toBe(200);
        expect(page.body).not.toContain('invalid_request');
      }
    });

    it('no open redirect: a registered post_logout_redirect_uri without an id_token_hint is not redirected to, session or not', async () => {
      const config = await register();
      const page = await new Browser().get(`${server().issuer}/logout?client_id=${encodeURIComponent(config.clientMetadata().client_id)}&post_logout_redirect_uri=${encodeURIComponent(POST_LOGOUT)}&state=s`);
      expect(page.status).toBe(200);
      expect(page.location).toBeNull();
      expect(page.body).not.toContain(POST_LOGOUT);
    });

    describe('refused: an error page, no redirect, nothing ends', () => {
      async function refused(page: (config: client.Configuration, browser: Browser, idToken: string) => Promise<Page>) {
        const config = await register();
        const browser = new Browser();
        const { idToken } = await signIn(config, browser);
        const watch = await server().watchLog!();
        try {
          expectErrorPage(await page(config, browser, idToken));
          // (The checks themselves may sign in and issue codes; no session ends.)
          expect(await watch.appended()).not.toContain('session.ended');
        } finally {
          await watch.close();
        }
        expect(await signedIn(config, browser)).toBe(true);
      }

      it('an unregistered post_logout_redirect_uri', () =>
        refused((config, browser, idToken) =>
          browser.get(client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: 'https://attacker.example/steal', state: 's' })),
        ));

      it('a post_logout_redirect_uri that only differs by a query or trailing slash', () =>
        refused((config, browser, idToken) =>
          browser.get(client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${POST_LOGOUT}/` })),
        ));

      it('a hint signed by another key (with our kid)', () =>
        refused(async (config, browser, idToken) => {
          const { privateKey } = await generateKeyPair('RS256');
          const forged = await new SignJWT(decodeJwt(idToken))
            .setProtectedHeader({ alg: 'RS256', kid: decodeProtectedHeader(idToken).kid!, typ: 'JWT' })
            .sign(privateKey);
          return browser.get(client.buildEndSessionUrl(config, { id_token_hint: forged, post_logout_redirect_uri: POST_LOGOUT }));
        }));

      it('a hint whose payload was altered, and an unsigned one', () =>
        refused(async (config, browser, idToken) => {
          const [header, , signature] = idToken.split('.');
          const payload = Buffer.from(JSON.stringify({ ...decodeJwt(idToken), sub: 'someone-else' })).toString('base64url');
          const altered = await browser.get(client.buildEndSessionUrl(config, { id_token_hint: `${header}.${payload}.${signature}` }));
          expectErrorPage(altered);
          const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${idToken.split('.')[1]}.`;
          return browser.get(client.buildEndSessionUrl(config, { id_token_hint: none }));
        }));

      it('an access token of ours as the hint', () =>
        refused(async (config, browser) => {
          const state = client.randomState();
          const { callback } = await browser.authorize(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state }), { ...user, consent: 'allow' });
          const tokens = await client.authorizationCodeGrant(config, callback, { expectedState: state });
          return browser.get(client.buildEndSessionUrl(config, { id_token_hint: tokens.access_token }));
        }));

      it('a hint issued to another client than client_id', () =>
        refused(async (_config, browser, idToken) => {
          const other = await register();
          return browser.get(client.buildEndSessionUrl(other, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT }));
        }));

      it('a post_logout_redirect_uri without client_id or hint to say whose it is', () =>
        refused((_config, browser) => browser.get(`${server().issuer}/logout?post_logout_redirect_uri=${encodeURIComponent(POST_LOGOUT)}&state=s`)));

      it('an unknown client_id, a repeated parameter, a JSON body', () =>
        refused(async (config, browser, idToken) => {
          expectErrorPage(await browser.get(`${server().issuer}/logout?client_id=nobody&post_logout_redirect_uri=${encodeURIComponent(POST_LOGOUT)}`));
          expectErrorPage(await browser.get(`${server().issuer}/logout?id_token_hint=${idToken}&id_token_hint=${idToken}`));
          const cookie = browser.cookie('idp_session')!;
          const json = await fetch(`${server().issuer}/logout`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', cookie: `${cookie.name}=${cookie.value}` },
            body: JSON.stringify({ id_token_hint: idToken, client_id: config.clientMetadata().client_id }),
            redirect: 'manual',
          });
          expect(json.status).toBe(400);
          return browser.get(`${server().issuer}/logout?state=${'x'.repeat(600)}&id_token_hint=${idToken}`);
        }));

      it('CSRF: confirming without the form token, with a tampered one, or with the form of another browser', () =>
        refused(async (config, browser) => {
          const confirmation = confirmationOf(await browser.get(client.buildEndSessionUrl(config, {})));
          expectErrorPage(await browser.postForm(`${server().issuer}/logout/confirm`, {}));
          expectErrorPage(await browser.postForm(`${server().issuer}/logout/confirm`, { confirmation: `${confirmation.slice(0, -4)}AAAA` }));
          // An attacker's own, valid confirmation (for the attacker's session) posted from the victim's browser.
          const attacker = new Browser();
          await signIn(config, attacker);
          const theirs = confirmationOf(await attacker.get(client.buildEndSessionUrl(config, {})));
          expectErrorPage(await browser.postForm(`${server().issuer}/logout/confirm`, { confirmation: theirs }));
          expect(await signedIn(config, attacker)).toBe(true);
          return browser.postForm(`${server().issuer}/logout/confirm`, { confirmation: 'not-a-token' });
        }));
    });
  });
}
