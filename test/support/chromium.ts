import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

/**
 * A real headless Chromium for end-to-end tests: Debian's `chromium` driven by playwright-core,
 * which brings no browser of its own. A machine without it fails the test with what to install:
 * never a skip (`.ci/run` installs it).
 */

export const INSTALL_HINT = 'install chromium (Debian: apt-get install -y chromium)';

/** Every wait of a browser test is bounded by this (navigation, a click, a locator): a few seconds, with room for a login (argon2) on a loaded 2-core machine. */
export const BROWSER_WAIT_MS = 10_000;
const LAUNCH_TIMEOUT_MS = 20_000;

/** Candidates searched on PATH when CHROMIUM_PATH is not set, in this order. */
const PATH_NAMES = ['chromium', 'chromium-browser'];

/**
 * The Chromium executable: `CHROMIUM_PATH` when set (it must then exist), else `chromium` or
 * `chromium-browser` on PATH. Throws with the install hint when there is none.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.CHROMIUM_PATH;
  if (given !== undefined && given !== '') {
    if (isExecutableFile(given)) return given;
    throw new Error(`CHROMIUM_PATH=${given} is not an executable file; ${INSTALL_HINT}, or point CHROMIUM_PATH at one`);
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter((d) => d !== '')) {
    for (const name of PATH_NAMES) {
      const candidate = path.join(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  throw new Error(`no ${PATH_NAMES.join(' or ')} on PATH: ${INSTALL_HINT}`);
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether this process runs as root (Chromium's sandbox cannot start as root in a container). */
const runningAsRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Launches the browser headless. The flags keep it from reaching out to the network at start
 * (this machine has none), and `--no-sandbox` is passed only when running as root.
 */
export async function launchChromium(env: NodeJS.ProcessEnv = process.env): Promise<Browser> {
  const executablePath = findChromium(env);
  return chromium.launch({
    executablePath,
    headless: true,
    // playwright passes --no-sandbox unless the sandbox is asked for: ask for it except as root.
    chromiumSandbox: !runningAsRoot(),
    timeout: LAUNCH_TIMEOUT_MS,
    args: [
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
    ],
  });
}

/** A fresh context (its own cookie jar) whose every wait is bounded. */
export async function newBoundedContext(browser: Browser, options: { javaScriptEnabled?: boolean } = {}): Promise<BrowserContext> {
  // English pages: the tests find the forms by their English labels.
  const context = await browser.newContext({ locale: 'en-US', ...options });
  context.setDefaultTimeout(BROWSER_WAIT_MS);
  context.setDefaultNavigationTimeout(BROWSER_WAIT_MS);
  return context;
}

export interface CspViolation {
  /** Which witness saw it: Chromium's console, or the page's `securitypolicyviolation` event. */
  seenBy: 'console' | 'event';
  /** The page it happened on. */
  url: string;
  /** The console text or the violated directive. */
  detail: string;
}

/**
 * Collects every Content Security Policy violation on the context's pages, from two witnesses:
 * Chromium's console error ("Refused to ... because it violates ...") and the DOM's
 * `securitypolicyviolation` event, reported through a binding the page scripts cannot reach
 * before it is installed. Also collects uncaught page errors.
 */
export async function watchPageProblems(context: BrowserContext): Promise<{ csp: CspViolation[]; pageErrors: string[] }> {
  const csp: CspViolation[] = [];
  const pageErrors: string[] = [];
  await context.exposeBinding('__reportCspViolation', ({ page }, detail: string) => {
    csp.push({ seenBy: 'event', url: page.url(), detail });
  });
  // Browser-side source (this project compiles without the DOM types).
  await context.addInitScript(`document.addEventListener('securitypolicyviolation', (event) => {
    const report = globalThis.__reportCspViolation;
    if (report) report(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' (' + event.sourceFile + ':' + event.lineNumber + ')');
  });`);
  const onPage = (page: Page) => {
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) csp.push({ seenBy: 'console', url: page.url(), detail: message.text() });
    });
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  };
  context.pages().forEach(onPage);
  context.on('page', onPage);
  return { csp, pageErrors };
}
