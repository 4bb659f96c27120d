import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { BROWSER_WAIT_MS, newBoundedContext, watchPageProblems, type CspViolation } from './chromium.js';
import { startRelyingParty, type RelyingParty } from './relying-party.js';

/**
 * One person at a real browser, for the real-browser end-to-end tests: a fresh Chromium context
 * (its own cookie jar), the problems its pages report (CSP violations, script errors), the
 * Set-Cookie headers the IdP sent it, and a relying party of its own (a new client each time,
 * so no consent given in one test is remembered in another).
 */
export interface BrowserSession {
  issuer: string;
  rp: RelyingParty;
  context: BrowserContext;
  page: Page;
  csp: CspViolation[];
  pageErrors: string[];
  /** Every Set-Cookie header the IdP sent, as received. */
  setCookies: string[];
}

export async function openBrowserSession(
  browser: Browser,
  issuer: string,
  options: { javaScriptEnabled?: boolean } = {},
): Promise<BrowserSession> {
  const rp = await startRelyingParty(issuer, { clientName: 'Browser Test RP' });
  const context = await newBoundedContext(browser, options);
  const { csp, pageErrors } = await watchPageProblems(context);
  const page = await context.newPage();
  const setCookies: string[] = [];
  page.on('response', (response: Response) => {
    if (!response.url().startsWith(`${issuer}/`)) return;
    void response.headersArray().then((headers) => {
      for (const header of headers) if (header.name.toLowerCase() === 'set-cookie') setCookies.push(header.value);
    });
  });
  return { issuer, rp, context, page, csp, pageErrors, setCookies };
}

export async function closeBrowserSession(session: BrowserSession): Promise<void> {
  await session.context.close();
  await session.rp.stop();
}

/** The cookies the browser keeps for the IdP's host, whatever their path. */
export async function idpCookies(session: BrowserSession) {
  const host = new URL(session.issuer).hostname;
  return (await session.context.cookies()).filter((c) => c.domain === host);
}

/** Whether the page is on the IdP, under this path. */
export const onIdp = (session: BrowserSession, path: string) => session.page.url().startsWith(`${session.issuer}${path}`);

/**
 * Presses Tab until the focused element matches `test`, a browser-side expression of `el`
 * (the focused element), at most `max` times.
 */
export async function tabTo(page: Page, test: string, max = 15): Promise<void> {
  for (let i = 0; i <= max; i++) {
    if (await page.evaluate(`(() => { const el = document.activeElement; return Boolean(el && (${test})); })()`)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached the element after ${max} presses on ${page.url()}`);
}

/** Polls a condition every 50 ms for at most BROWSER_WAIT_MS (the assertions after it tell what is missing). */
export async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + BROWSER_WAIT_MS;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}
