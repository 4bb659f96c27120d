import * as client from 'openid-client';
import { Browser, hiddenRid } from '../../support/browser.js';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * The login, consent and error pages as a browser gets them: the language from `ui_locales`
 * (OIDC Core §3.1.2.1), then `Accept-Language` (RFC 9110 §12.5.4), in `<html lang>` and
 * `Content-Language`; the consent page names the client and the host the code is sent to, its
 * name escaped. Run inside the authorization-code suite of each topology.
 */
const REDIRECT_URI = 'https://shop.example.test:8443/pages-cb';
const HOSTILE_NAME = `Shop <img src=x onerror="alert(1)"> & "Co"`;
const options = () => ({ execute: [client.allowInsecureRequests] });

export function describePages(server: () => IdpUnderTest, user: { username: string; password: string }): void {
  describe('localized, accessible pages', () => {
    const register = (clientName?: string) =>
      client.dynamicClientRegistration(
        new URL(server().issuer),
        { redirect_uris: [REDIRECT_URI], scope: 'openid profile email', ...(clientName ? { client_name: clientName } : {}) },
        client.ClientSecretBasic(),
        options(),
      );
    const authorizationUrl = (config: client.Configuration, extra: Record<string, string> = {}) =>
      client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile email', state: client.randomState(), ...extra });

    it("discovery lists the pages' languages (ui_locales_supported)", async () => {
      const metadata = (await (await fetch(`${server().issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(metadata.ui_locales_supported).toEqual(['en', 'de', 'fr']);
    });

    it('ui_locales=de gives the German login page: lang, Content-Language, labels', async () => {
      const page = await new Browser().get(authorizationUrl(await register('Pages de'), { ui_locales: 'de' }));
      expect(page.status).toBe(200);
      expect(page.kind).toBe('login');
      expect(page.headers.get('content-language')).toBe('de');
      expect(page.body).toMatch(/<html lang="de">/);
      expect(page.body).toContain('<title>Anmelden</title>');
      expect(page.body).toContain('<label for="username">Benutzername</label>');
      expect(page.body).toContain('<label for="password">Passwort</label>');
      expect(page.body).not.toContain('Sign in');
    });

    it('ui_locales wins over Accept-Language, in its own order', async () => {
      const config = await register();
      const page = await new Browser({ 'accept-language': 'fr' }).get(authorizationUrl(config, { ui_locales: 'ja de-CH fr' }));
      expect(page.headers.get('content-language')).toBe('de');
      expect(page.body).toMatch(/<html lang="de">/);
    });

    it('Accept-Language: fr;q=0.9, de;q=0.8 gives the French login page', async () => {
      const page = await new Browser({ 'accept-language': 'fr;q=0.9, de;q=0.8' }).get(authorizationUrl(await register()));
      expect(page.status).toBe(200);
      expect(page.kind).toBe('login');
      expect(page.headers.get('content-language')).toBe('fr');
      expect(page.body).toMatch(/<html lang="fr">/);
      expect(page.body).toContain('<title>Connexion</title>');
    });

    it('no preference, or only unsupported ones, gives English', async () => {
      const config = await register();
      for (const headers of [{} as Record<string, string>, { 'accept-language': 'ja, zh-CN;q=0.8, *;q=0' }, { 'accept-language': ';;garbage==,,' }]) {
        const page = await new Browser(headers).get(authorizationUrl(config, { ui_locales: 'xx-<b>' }));
        expect(page.kind).toBe('login');
        expect(page.headers.get('content-language')).toBe('en');
        expect(page.body).toMatch(/<html lang="en">/);
      }
    });

    it('a failed login is announced in the user language and bound to the fields', async () => {
      const browser = new Browser({ 'accept-language': 'de-AT, en;q=0.5' });
      const login = await browser.get(authorizationUrl(await register()));
      const failed = await browser.postForm(new URL('/authorize/login', login.url), {
        rid: hiddenRid(login.body),
        username: user.username,
        password: `${user.password}-wrong`,
      });
      expect(failed.status).toBe(401);
      expect(failed.headers.get('content-language')).toBe('de');
      expect(failed.body).toContain('<p class="error" id="login-error" role="alert">Benutzername oder Passwort ist falsch.</p>');
      expect(failed.body).toMatch(/<input type="text" id="username"[^>]* aria-invalid="true" aria-describedby="login-error">/);
      expect(failed.body).not.toContain(`${user.password}-wrong`);
    });

    it('the forms posted back keep the language of ui_locales, whatever the browser prefers', async () => {
      const browser = new Browser({ 'accept-language': 'en-GB, en;q=0.9' });
      const login = await browser.get(authorizationUrl(await register('Pages ui_locales'), { ui_locales: 'fr-CA de' }));
      expect(login.headers.get('content-language')).toBe('fr');
      const failed = await browser.postForm(new URL('/authorize/login', login.url), {
        rid: hiddenRid(login.body),
        username: user.username,
        password: `${user.password}-wrong`,
      });
      expect(failed.status).toBe(401);
      expect(failed.headers.get('content-language')).toBe('fr');
      expect(failed.body).toContain('role="alert">Nom d’utilisateur ou mot de passe incorrect.</p>');
      const consent = await browser.postForm(new URL('/authorize/login', login.url), { rid: hiddenRid(failed.body), ...user });
      expect(consent.kind).toBe('consent');
      expect(consent.headers.get('content-language')).toBe('fr');
      expect(consent.body).toMatch(/<html lang="fr">/);
    });

    it('the consent page names the client and the redirect host, escaped, in the user language; the flow completes', async () => {
      const config = await register(HOSTILE_NAME);
      const browser = new Browser({ 'accept-language': 'de' });
      const result = await browser.authorize(authorizationUrl(config, { ui_locales: 'de' }), { ...user, consent: 'allow' });
      const consent = result.pages.find((p) => p.kind === 'consent');
      expect(consent).toBeDefined();
      expect(consent!.headers.get('content-language')).toBe('de');
      expect(consent!.body).toMatch(/<html lang="de">/);
      expect(consent!.body).toContain(
        '<strong>Shop &lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &quot;Co&quot;</strong> bittet um Zugriff auf Ihr Konto',
      );
      expect(consent!.body).not.toContain('<img');
      expect(consent!.body).toContain('<strong>shop.example.test:8443</strong>');
      // Whose account: the signed-in user's name, so a user with two accounts sees which one.
      expect(consent!.body).toContain(`Sie sind angemeldet als <strong>${user.username}</strong>.`);
      expect(consent!.body).toContain('Ihre E-Mail-Adresse sehen');
      expect(result.callback.origin).toBe('https://shop.example.test:8443');
      expect(result.callback.searchParams.get('code')).toEqual(expect.any(String));
    });

    it('without client_name the consent page names the client_id', async () => {
      const config = await register();
      const result = await new Browser().authorize(authorizationUrl(config), { ...user, consent: 'deny' });
      const consent = result.pages.find((p) => p.kind === 'consent');
      expect(consent!.body).toContain(`<strong>${config.clientMetadata().client_id}</strong> asks for access`);
      expect(result.callback.searchParams.get('error')).toBe('access_denied');
    });

    it('the error page explains itself in the user language without internals', async () => {
      const browser = new Browser({ 'accept-language': 'fr-CH, de;q=0.5' });
      const unknownClient = await browser.get(
        `${server().issuer}/authorize?response_type=code&client_id=nobody-here&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=openid`,
      );
      expect(unknownClient.status).toBe(400);
      expect(unknownClient.kind).toBe('error');
      expect(unknownClient.headers.get('content-language')).toBe('fr');
      expect(unknownClient.body).toContain('<title>Erreur de connexion</title>');
      expect(unknownClient.body).toContain('n’est pas connue de ce serveur');
      expect(unknownClient.body).toContain('<code>invalid_request</code>');

      // A form posted without its pending request (expired, or another browser).
      const expired = await new Browser({ 'accept-language': 'de' }).postForm(`${server().issuer}/authorize/consent`, { rid: 'x', decision: 'allow' });
      expect(expired.status).toBe(400);
      expect(expired.headers.get('content-language')).toBe('de');
      expect(expired.body).toContain('Die Anmeldung hat zu lange gedauert');
      expect(expired.body).not.toMatch(/at .*\.js:\d+|Error:/);
    });
  });
}
