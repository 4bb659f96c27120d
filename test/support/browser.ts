/**
 * A tiny cookie-keeping "browser" over the global fetch, for driving the login and consent pages
 * of the authorization endpoint the way a user agent would. Redirects are never followed: the
 * caller sees every 3xx and its Location.
 */

export interface Page {
  /** The URL that was requested. */
  url: string;
  method: 'GET' | 'POST';
  status: number;
  headers: Headers;
  /** The raw Location header, if any. */
  location: string | null;
  body: string;
  /** What the page is, judged from its HTML. */
  kind: 'login' | 'consent' | 'error' | 'redirect' | 'form_post' | 'other';
}

export interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
  /** Epoch milliseconds; undefined for a session cookie. */
  expiresAt: number | undefined;
  secure: boolean;
  httpOnly: boolean;
}

export interface AuthorizeOptions {
  username: string;
  password: string;
  consent: 'allow' | 'deny';
}

export interface AuthorizeResult {
  /**
   * Where the authorization response went: the final 303 Location (query or fragment mode), or
   * the action of the self-posting form (form_post mode, then `formPost` holds its fields).
   */
  callback: URL;
  formPost?: Record<string, string>;
  /** Every response on the way, in order (the last one is the 303). */
  pages: Page[];
  sawLogin: boolean;
  sawConsent: boolean;
}

const LOGIN_ACTION = /<form\b[^>]*\baction="\/authorize\/login"/i;
const CONSENT_ACTION = /<form\b[^>]*\baction="\/authorize\/consent"/i;

export class Browser {
  private jar: StoredCookie[] = [];

  /** `headers`: sent with every request, e.g. the user's `Accept-Language`. */
  constructor(private readonly headers: Record<string, string> = {}) {}

  async get(url: string | URL): Promise<Page> {
    return this.request('GET', new URL(url));
  }

  async postForm(url: string | URL, fields: Record<string, string>): Promise<Page> {
    return this.request('POST', new URL(url), new URLSearchParams(fields));
  }

  /** The cookies this browser would send to `url`. */
  cookiesFor(url: string | URL): StoredCookie[] {
    const target = new URL(url);
    const now = Date.now();
    this.jar = this.jar.filter((c) => c.expiresAt === undefined || c.expiresAt > now);
    return this.jar
      .filter((c) => c.host === target.host && pathMatches(target.pathname, c.path) && (!c.secure || target.protocol === 'https:'))
      .sort((a, b) => b.path.length - a.path.length);
  }

  /** A stored cookie by name (any path), or undefined. */
  cookie(name: string): StoredCookie | undefined {
    const now = Date.now();
    return this.jar.find((c) => c.name === name && (c.expiresAt === undefined || c.expiresAt > now));
  }

  /**
   * Runs an authorization request the way a user would: opens the URL, signs in if the login
   * form appears, answers the consent form if it appears, and returns the final 303 Location.
   */
  async authorize(url: string | URL, options: AuthorizeOptions): Promise<AuthorizeResult> {
    const pages: Page[] = [];
    let page = await this.get(url);
    pages.push(page);
    let sawLogin = false;
    let sawConsent = false;
    if (page.kind === 'login') {
      sawLogin = true;
      page = await this.postForm(new URL('/authorize/login', page.url), {
        rid: hiddenRid(page.body),
        username: options.username,
        password: options.password,
      });
      pages.push(page);
    }
    if (page.kind === 'consent') {
      sawConsent = true;
      page = await this.postForm(new URL('/authorize/consent', page.url), {
        rid: hiddenRid(page.body),
        decision: options.consent,
      });
      pages.push(page);
    }
    if (page.kind === 'form_post') {
      const form = formPostOf(page.body);
      return { callback: new URL(form.action), formPost: form.fields, pages, sawLogin, sawConsent };
    }
    if (page.status !== 303 || page.location === null) {
      throw new Error(
        `authorization did not end in a 303 redirect: ${page.method} ${page.url} answered ${page.status} (${page.kind})\n` +
          page.body.slice(0, 2000),
      );
    }
    return { callback: new URL(page.location, page.url), pages, sawLogin, sawConsent };
  }

  /** Sets a cookie as if some other party had planted it (a sibling subdomain, a script). */
  plant(cookie: Pick<StoredCookie, 'name' | 'value' | 'host'> & Partial<StoredCookie>): void {
    const planted: StoredCookie = { path: '/', expiresAt: undefined, secure: false, httpOnly: false, ...cookie };
    this.jar = this.jar.filter((c) => !(c.name === planted.name && c.host === planted.host && c.path === planted.path));
    this.jar.push(planted);
  }

  private async request(method: 'GET' | 'POST', url: URL, form?: URLSearchParams): Promise<Page> {
    const headers: Record<string, string> = { accept: 'text/html', ...this.headers };
    const cookies = this.cookiesFor(url);
    if (cookies.length > 0) headers.cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method, headers, redirect: 'manual', ...(form ? { body: form.toString() } : {}) });
    for (const header of response.headers.getSetCookie()) this.store(url, header);
    const body = await response.text();
    const location = response.headers.get('location');
    return { url: url.href, method, status: response.status, headers: response.headers, location, body, kind: kindOf(response.status, location, body) };
  }

  /** RFC 6265 §5.2 and §5.3, reduced to host-only cookies. */
  private store(requestUrl: URL, header: string): void {
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path: string | undefined;
    let expiresAt: number | undefined;
    let maxAge: number | undefined;
    let secure = false;
    let httpOnly = false;
    for (const attribute of attributes) {
      const [rawKey = '', ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const attrValue = rest.join('=').trim();
      if (key === 'path' && attrValue.startsWith('/')) path = attrValue;
      else if (key === 'expires') {
        const time = Date.parse(attrValue);
        if (!Number.isNaN(time)) expiresAt = time;
      } else if (key === 'max-age' && /^-?\d+$/.test(attrValue)) maxAge = Number(attrValue);
      else if (key === 'secure') secure = true;
      else if (key === 'httponly') httpOnly = true;
    }
    // Max-Age wins over Expires (RFC 6265 §5.3 step 3); zero or negative means "expire now".
    if (maxAge !== undefined) expiresAt = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000;
    const cookie: StoredCookie = {
      name,
      value,
      host: requestUrl.host,
      path: path ?? defaultPath(requestUrl.pathname),
      expiresAt,
      secure,
      httpOnly,
    };
    this.jar = this.jar.filter((c) => !(c.name === cookie.name && c.host === cookie.host && c.path === cookie.path));
    if (cookie.expiresAt === undefined || cookie.expiresAt > Date.now()) this.jar.push(cookie);
  }
}

/**
 * The authorization response's parameters, whatever its mode: the query, the fragment, or the
 * fields of the form_post page.
 */
export function responseParameters(result: AuthorizeResult): URLSearchParams {
  if (result.formPost) return new URLSearchParams(result.formPost);
  if (result.callback.hash.length > 1) return new URLSearchParams(result.callback.hash.slice(1));
  return result.callback.searchParams;
}

/** The action and hidden fields of a form_post page (Form Post Response Mode §2). */
export function formPostOf(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form\b[^>]*\baction="([^"]*)"/i.exec(html)?.[1];
  if (action === undefined) throw new Error(`no form in the page:\n${html.slice(0, 2000)}`);
  const fields: Record<string, string> = {};
  for (const input of html.matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input[0])?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(input[0])?.[1];
    if (name !== undefined && value !== undefined) fields[decodeHtml(name)] = decodeHtml(value);
  }
  return { action: decodeHtml(action), fields };
}

/** The hidden `rid` of the login or consent form. */
export function hiddenRid(html: string): string {
  const input = /<input\b[^>]*\bname="rid"[^>]*>/i.exec(html)?.[0];
  const value = input ? /\bvalue="([^"]*)"/i.exec(input)?.[1] : undefined;
  if (value === undefined) throw new Error(`no hidden rid input in the page:\n${html.slice(0, 2000)}`);
  return decodeHtml(value);
}

function decodeHtml(value: string): string {
  return value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

function kindOf(status: number, location: string | null, body: string): Page['kind'] {
  if (status >= 300 && status < 400 && location !== null) return 'redirect';
  if (LOGIN_ACTION.test(body)) return 'login';
  if (CONSENT_ACTION.test(body)) return 'consent';
  if (status === 200 && /<form\b[^>]*method="post"/i.test(body) && /<script>document\.forms\[0\]\.submit\(\);<\/script>/.test(body)) return 'form_post';
  if (status >= 400) return 'error';
  return 'other';
}

/** RFC 6265 §5.1.4: path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}

/** RFC 6265 §5.1.4: the default-path of a request URI. */
function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/';
  const lastSlash = requestPath.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : requestPath.slice(0, lastSlash);
}
