import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import {
  closeBrowserSession,
  idpCookies,
  onIdp,
  openBrowserSession,
  tabTo,
  waitUntil,
  type BrowserSession,
} from '../support/browser-session.js';
import { BROWSER_WAIT_MS, launchChromium } from '../support/chromium.js';
import { startEmbeddedIdp, type IdpUnderTest } from '../support/idp-under-test.js';

/**
 * The login, consent and logout pages in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core), against the embedded IdP and a tiny relying party on 127.0.0.1 that
 * redeems the code with PKCE through openid-client (test/support/relying-party.ts). What
 * fetch-based tests cannot see is checked here: the cookies as the browser stores them, the
 * pages' CSP as the browser enforces it (form_post's script included), a login by keyboard only.
 * Without Chromium every test fails with what to install.
 */

const USERNAME = `bob-${randomBytes(4).toString('hex')}`;
const PASSWORD = `pw-${randomBytes(12).toString('base64url')}`;

let browser: Browser | undefined;
let idp: IdpUnderTest | undefined;

beforeAll(async () => {
  browser = await launchChromium();
  idp = await startEmbeddedIdp({ user: { username: USERNAME, password: PASSWORD } });
});

afterAll(async () => {
  await browser?.close();
  await idp?.stop();
});

async function withSession(test: (session: BrowserSession) => Promise<void>, options: { javaScriptEnabled?: boolean } = {}): Promise<void> {
  const session = await openBrowserSession(browser!, idp!.issuer, options);
  try {
    await test(session);
  } finally {
    await closeBrowserSession(session);
  }
}

async function expectLoginPage(session: BrowserSession): Promise<void> {
  await session.page.getByLabel('Username', { exact: true }).waitFor();
  expect(onIdp(session, '/authorize')).toBe(true);
}

/** Fills the login form by its labels and clicks Sign in. */
async function logIn(session: BrowserSession): Promise<void> {
  await expectLoginPage(session);
  await session.page.getByLabel('Username', { exact: true }).fill(USERNAME);
  await session.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await session.page.getByRole('button', { name: 'Sign in' }).click();
}

/** Waits for the RP's signed-in page and checks it shows the sub of the ID token it verified. */
async function expectSignedIn(session: BrowserSession): Promise<string> {
  const { page, rp } = session;
  await page.waitForURL((url) => url.href.startsWith(rp.redirectUri), { timeout: BROWSER_WAIT_MS }).catch((error: Error) => {
    // Say what the browser saw, not only that the RP was never reached.
    throw new Error(`${error.message}\nstill at ${page.url()}; CSP violations: ${JSON.stringify(session.csp)}; page errors: ${JSON.stringify(session.pageErrors)}; RP failures: ${JSON.stringify(rp.failures)}`);
  });
  const sub = await page.locator('#sub').textContent();
  expect(rp.failures).toEqual([]);
  const signIn = rp.signIns.at(-1)!;
  expect(sub).toBe(signIn.sub);
  expect(await page.locator('#user').textContent()).toBe(USERNAME);
  expect(signIn.claims).toMatchObject({ iss: idp!.issuer, aud: rp.clientId, sub });
  return sub!;
}

/** From the RP's home page: its sign-in link, the login form, Allow, back at the RP. */
async function signIn(session: BrowserSession, link: 'Sign in' | 'Sign in with form_post' = 'Sign in'): Promise<string> {
  await session.page.goto(`${session.rp.origin}/`);
  await session.page.getByRole('link', { name: link, exact: true }).click();
  await logIn(session);
  await session.page.getByRole('button', { name: 'Allow' }).click();
  return expectSignedIn(session);
}

/** Every Set-Cookie header the IdP sent this session (setting or clearing) says HttpOnly and SameSite=Lax or Strict. */
function expectCookieHeadersHttpOnlySameSite(session: BrowserSession): void {
  expect(session.setCookies.length).toBeGreaterThan(0);
  for (const header of session.setCookies) {
    const attributes = header.split(';').slice(1).map((a) => a.trim().toLowerCase());
    expect({ header, httpOnly: attributes.includes('httponly') }).toEqual({ header, httpOnly: true });
    expect({ header, sameSite: attributes.find((a) => a.startsWith('samesite=')) }).toEqual({
      header,
      sameSite: expect.stringMatching(/^samesite=(lax|strict)$/),
    });
  }
}

/** The problems the browser reported must be none: no CSP violation, no script error. */
function expectNoPageProblems(session: BrowserSession): void {
  expect(session.csp).toEqual([]);
  expect(session.pageErrors).toEqual([]);
}

describe('a real headless Chromium against the embedded IdP', () => {
  it('code + PKCE: the RP login link, the login form by its labels, Allow, back at the RP with the ID token sub', () =>
    withSession(async (session) => {
      const { page, rp } = session;
      await page.goto(`${rp.origin}/`);
      await page.getByRole('link', { name: 'Sign in', exact: true }).click();
      await expectLoginPage(session);

      // The pending request's cookie exists and the page's scripts cannot read it (HttpOnly).
      expect(await page.evaluate('document.cookie')).toBe('');
      expect(await idpCookies(session)).toHaveLength(1);

      await logIn(session);
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      expect(onIdp(session, '/authorize/login')).toBe(true);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Browser Test RP');
      expect(await page.evaluate('document.cookie')).toBe('');
      await page.getByRole('button', { name: 'Allow' }).click();

      await expectSignedIn(session);
      const signIn = rp.signIns.at(-1)!;
      expect(signIn).toMatchObject({ method: 'GET', responseMode: 'query' });
      expect(signIn.claims.nonce).toBeDefined();
      expectNoPageProblems(session);
    }));

  it('cookies the IdP sets are HttpOnly and SameSite, as sent and as the browser keeps them; the pending request cookie is gone at the end', () =>
    withSession(async (session) => {
      const { page, rp } = session;
      await page.goto(`${rp.origin}/login`);
      await expectLoginPage(session);
      // No session yet: the one cookie is the pending request's.
      const pending = (await idpCookies(session)).map((c) => c.name);
      expect(pending).toHaveLength(1);
      await logIn(session);
      await page.getByRole('button', { name: 'Allow' }).click();
      await expectSignedIn(session);

      // As sent: every Set-Cookie of the IdP says HttpOnly and SameSite=Lax or Strict.
      expectCookieHeadersHttpOnlySameSite(session);
      // As kept: the browser stored them so (the RP on the same host sets none of its own).
      const kept = await idpCookies(session);
      for (const cookie of kept) {
        expect({ name: cookie.name, httpOnly: cookie.httpOnly, sameSite: cookie.sameSite }).toEqual({
          name: cookie.name,
          httpOnly: true,
          sameSite: expect.stringMatching(/^(Lax|Strict)$/),
        });
      }
      // Only the session remains: the pending request's cookie was cleared when it completed.
      expect(kept).toHaveLength(1);
      expect(pending).not.toContain(kept[0]!.name);
      expectNoPageProblems(session);
    }));

  it('keyboard only: Tab to the fields, Enter signs in, Tab to Allow and Enter', () =>
    withSession(async (session) => {
      const { page, rp } = session;
      await page.goto(`${rp.origin}/login`);
      await expectLoginPage(session);
      await tabTo(page, "el.tagName === 'INPUT' && el.name === 'username'");
      await page.keyboard.type(USERNAME);
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement && document.activeElement.name')).toBe('password');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Enter');

      await page.getByRole('button', { name: 'Allow' }).waitFor();
      await tabTo(page, "el.tagName === 'BUTTON' && el.value === 'allow'");
      await page.keyboard.press('Enter');

      await expectSignedIn(session);
      expectNoPageProblems(session);
    }));

  it('the error page (a redirect URI the client never registered) is shown at the IdP, sends the browser nowhere and breaks no CSP rule', () =>
    withSession(async (session) => {
      const { page, rp } = session;
      const planted = new URL(client.buildAuthorizationUrl(rp.config, { redirect_uri: 'https://attacker.example/cb', scope: 'openid', state: 's' }));
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      const response = await page.goto(planted.href);
      expect(response?.status()).toBe(400);
      await page.getByRole('heading', { level: 1 }).waitFor();
      expect(onIdp(session, '/authorize')).toBe(true);
      // Nothing was loaded from, or sent to, the planted URI.
      expect(requests.filter((url) => !url.startsWith(`${idp!.issuer}/`))).toEqual([]);
      expect(await page.evaluate('document.cookie')).toBe('');
      expectNoPageProblems(session);
    }));

  it('the CSP watch is not blind: a page that breaks its own policy is reported', () =>
    withSession(async (session) => {
      const { page, context, rp } = session;
      const canary = `${rp.origin}/csp-canary`;
      await context.route(canary, (route) =>
        route.fulfill({
          status: 200,
          headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'" },
          body: '<!doctype html><title>canary</title><script>document.title = "ran"</script><p>canary</p>',
        }),
      );
      await page.goto(canary);
      await page.locator('p').waitFor();
      await waitUntil(() => new Set(session.csp.map((v) => v.seenBy)).size === 2);
      expect(await page.title()).toBe('canary'); // the inline script was blocked
      // Both witnesses saw it, on that page, naming the script directive.
      expect([...new Set(session.csp.map((v) => v.seenBy))].sort()).toEqual(['console', 'event']);
      expect(session.csp.every((v) => v.url === canary && /script-src/.test(v.detail))).toBe(true);
    }));
});

describe('response_mode=form_post in a real headless Chromium', () => {
  it('form_post: the IdP page posts the response to the RP by its one script, within its CSP; the RP redeems the code with PKCE', () =>
    withSession(async (session) => {
      const callbacks: string[] = [];
      session.page.on('request', (request) => {
        if (request.url().startsWith(session.rp.redirectUri)) callbacks.push(request.method());
      });
      await signIn(session, 'Sign in with form_post');
      expect(session.rp.signIns.at(-1)).toMatchObject({ method: 'POST', responseMode: 'form_post' });
      // The response came only in the POSTed form: no GET of the callback carried it.
      expect(callbacks).toEqual(['POST']);
      expect(new URL(session.page.url()).search).toBe('');
      // The auto-submitting script ran by its hash and the form went where form-action allows.
      expectNoPageProblems(session);
    }));

  it('form_post without JavaScript: the page says so and its Continue button posts the response', () =>
    withSession(
      async (session) => {
        const { page, rp } = session;
        await page.goto(`${rp.origin}/login?response_mode=form_post`);
        await logIn(session);
        await page.getByRole('button', { name: 'Allow' }).click();
        await page.getByRole('button', { name: 'Continue' }).click();
        await expectSignedIn(session);
        expect(rp.signIns.at(-1)).toMatchObject({ method: 'POST', responseMode: 'form_post' });
        expect(session.csp).toEqual([]);
      },
      { javaScriptEnabled: false },
    ));
});

describe('RP-initiated logout in a real headless Chromium', () => {
  it('logout with the ID token as hint: the session ends at once, the browser returns to the RP with its state, the next sign-in asks for the password', () =>
    withSession(async (session) => {
      const { page, rp } = session;
      await signIn(session);
      expect(await idpCookies(session)).toHaveLength(1);

      await page.getByRole('link', { name: 'Sign out', exact: true }).click();
      await page.waitForURL((url) => url.href.startsWith(rp.postLogoutRedirectUri));
      await page.locator('#signed-out').waitFor();
      expect(rp.failures).toEqual([]);
      expect(rp.signOuts).toHaveLength(1);
      expect(await idpCookies(session)).toEqual([]);
      expectCookieHeadersHttpOnlySameSite(session); // the clearing one too

      // Signed out for real: the IdP asks for the password again, not merely for consent.
      await page.goto(`${rp.origin}/login`);
      await expectLoginPage(session);
      expectNoPageProblems(session);
    }));

  it('logout without a hint: the IdP asks, the user confirms by keyboard, the session ends, and the IdP says so itself (no redirect without a hint)', () =>
    withSession(async (session) => {
      const { page, rp } = session;
      await signIn(session);

      await page.getByRole('link', { name: 'Sign out without a hint' }).click();
      const confirm = page.getByRole('button', { name: 'Sign out' });
      await confirm.waitFor();
      expect(onIdp(session, '/logout')).toBe(true);
      // Nothing ends before the user says so.
      expect(await idpCookies(session)).toHaveLength(1);
      await tabTo(page, "el.tagName === 'BUTTON' && el.form && el.form.getAttribute('action') === '/logout/confirm'");
      await page.keyboard.press('Enter');

      // RP-Initiated Logout §3: without an id_token_hint the OP must not redirect.
      await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
      expect(onIdp(session, '/logout/confirm')).toBe(true);
      expect(rp.signOuts).toHaveLength(0);
      expect(await idpCookies(session)).toEqual([]);
      await page.goto(`${rp.origin}/login`);
      await expectLoginPage(session);
      expectNoPageProblems(session);
    }));
});
