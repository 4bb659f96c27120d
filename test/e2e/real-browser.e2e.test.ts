import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { BROWSER_WAIT_MS, launchChromium, newBoundedContext, watchPageProblems, type CspViolation } from '../support/chromium.js';
import { startEmbeddedIdp, type IdpUnderTest } from '../support/idp-under-test.js';
import { startRelyingParty, type RelyingParty } from '../support/relying-party.js';

/**
 * The login and consent pages in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core), against the embedded IdP and a tiny relying party on 127.0.0.1 that
 * redeems the code with PKCE through openid-client. What fetch-based tests cannot see is checked
 * here: the cookies as the browser stores them, the pages' CSP as the browser enforces it, and a
 * login by keyboard only. Without Chromium every test fails with what to install.
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

/**
 * One browser session with its own cookie jar, the problems its pages report, and the IdP's
 * Set-Cookie headers; and its own relying party (a new client, so no consent is remembered).
 */
interface Session {
  rp: RelyingParty;
  context: BrowserContext;
  page: Page;
  csp: CspViolation[];
  pageErrors: string[];
  /** Every Set-Cookie header the IdP sent, as received. */
  setCookies: string[];
}

async function openSession(): Promise<Session> {
  const rp = await startRelyingParty(idp!.issuer, { clientName: 'Browser Test RP' });
  const context = await newBoundedContext(browser!);
  const { csp, pageErrors } = await watchPageProblems(context);
  const page = await context.newPage();
  const setCookies: string[] = [];
  page.on('response', (response: Response) => {
    if (!response.url().startsWith(`${idp!.issuer}/`)) return;
    void response.headersArray().then((headers) => {
      for (const header of headers) if (header.name.toLowerCase() === 'set-cookie') setCookies.push(header.value);
    });
  });
  return { rp, context, page, csp, pageErrors, setCookies };
}

async function closeSession(session: Session): Promise<void> {
  await session.context.close();
  await session.rp.stop();
}

/** The cookies the browser keeps for the IdP's host, whatever their path. */
async function idpCookies(context: BrowserContext) {
  const host = new URL(idp!.issuer).hostname;
  return (await context.cookies()).filter((c) => c.domain === host);
}

const onIdp = (page: Page, path: string) => page.url().startsWith(`${idp!.issuer}${path}`);

async function expectLoginPage(page: Page): Promise<void> {
  await page.getByLabel('Username', { exact: true }).waitFor();
  expect(onIdp(page, '/authorize')).toBe(true);
}

async function expectSignedIn(session: Session): Promise<string> {
  const { page, rp } = session;
  await page.waitForURL((url) => url.href.startsWith(rp.redirectUri), { timeout: BROWSER_WAIT_MS });
  const sub = await page.locator('#sub').textContent();
  expect(rp.failures).toEqual([]);
  const signIn = rp.signIns.at(-1)!;
  expect(sub).toBe(signIn.sub);
  expect(await page.locator('#user').textContent()).toBe(USERNAME);
  expect(signIn.claims).toMatchObject({ iss: idp!.issuer, aud: rp.clientId, sub });
  return sub!;
}

/** The problems the browser reported must be none: no CSP violation, no script error. */
function expectNoPageProblems(session: Session): void {
  expect(session.csp).toEqual([]);
  expect(session.pageErrors).toEqual([]);
}

/**
 * Presses Tab until the focused element matches `test`, a browser-side expression of `el`
 * (the focused element), at most `max` times.
 */
async function tabTo(page: Page, test: string, max = 15): Promise<void> {
  for (let i = 0; i <= max; i++) {
    if (await page.evaluate(`(() => { const el = document.activeElement; return Boolean(el && (${test})); })()`)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached the element after ${max} presses on ${page.url()}`);
}

/** Polls a condition every 50 ms for at most BROWSER_WAIT_MS (then the assertions after it tell what is missing). */
async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + BROWSER_WAIT_MS;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe('a real headless Chromium against the embedded IdP', () => {
  it('code + PKCE: the RP login link, the login form by its labels, Allow, back at the RP with the ID token sub', async () => {
    const session = await openSession();
    const { page, context, rp } = session;
    try {
      await page.goto(`${rp.origin}/`);
      await page.getByRole('link', { name: 'Sign in', exact: true }).click();
      await expectLoginPage(page);

      // The pending request's cookie exists and the page's scripts cannot read it (HttpOnly).
      expect(await page.evaluate('document.cookie')).toBe('');
      expect(await idpCookies(context)).toHaveLength(1);

      await page.getByLabel('Username', { exact: true }).fill(USERNAME);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();

      await page.getByRole('button', { name: 'Allow' }).waitFor();
      expect(onIdp(page, '/authorize/login')).toBe(true);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Browser Test RP');
      expect(await page.evaluate('document.cookie')).toBe('');
      await page.getByRole('button', { name: 'Allow' }).click();

      await expectSignedIn(session);
      const signIn = rp.signIns.at(-1)!;
      expect(signIn).toMatchObject({ method: 'GET', responseMode: 'query' });
      expect(signIn.claims.nonce).toBeDefined();
      expectNoPageProblems(session);
    } finally {
      await closeSession(session);
    }
  });

  it('cookies the IdP sets are HttpOnly and SameSite, as sent and as the browser keeps them; the pending request cookie is gone at the end', async () => {
    const session = await openSession();
    const { page, context, rp } = session;
    try {
      await page.goto(`${rp.origin}/login`);
      await expectLoginPage(page);
      // No session yet: the one cookie is the pending request's.
      const pending = (await idpCookies(context)).map((c) => c.name);
      expect(pending).toHaveLength(1);
      await page.getByLabel('Username', { exact: true }).fill(USERNAME);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      await expectSignedIn(session);

      // As sent: every Set-Cookie of the IdP says HttpOnly and SameSite=Lax or Strict.
      expect(session.setCookies.length).toBeGreaterThan(0);
      for (const header of session.setCookies) {
        const attributes = header.split(';').slice(1).map((a) => a.trim().toLowerCase());
        expect({ header, httpOnly: attributes.includes('httponly') }).toEqual({ header, httpOnly: true });
        expect({ header, sameSite: attributes.find((a) => a.startsWith('samesite=')) }).toEqual({
          header,
          sameSite: expect.stringMatching(/^samesite=(lax|strict)$/),
        });
      }
      // As kept: the browser stored them so (the RP on the same host sets none of its own).
      const kept = await idpCookies(context);
      expect(kept.length).toBeGreaterThan(0);
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
    } finally {
      await closeSession(session);
    }
  });

  it('keyboard only: Tab to the fields, Enter signs in, Tab to Allow and Enter', async () => {
    const session = await openSession();
    const { page, context, rp } = session;
    try {
      await page.goto(`${rp.origin}/login`);
      await expectLoginPage(page);
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
    } finally {
      await closeSession(session);
    }
  });

  it('the CSP watch is not blind: a page that breaks its own policy is reported', async () => {
    const session = await openSession();
    const { page, context, rp } = session;
    try {
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
    } finally {
      await closeSession(session);
    }
  });
});
