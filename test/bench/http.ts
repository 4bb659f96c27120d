import http from 'node:http';

/**
 * The load generator's HTTP client: node:http over one keep-alive agent per bench run (cheaper
 * per request than fetch, so that the load generator's core is not what limits a fast server),
 * and a small cookie jar for "fresh browser" flows. Redirects are never followed.
 */

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A form body (sent as application/x-www-form-urlencoded) or a JSON body. */
  form?: Record<string, string>;
  json?: unknown;
  jar?: CookieJar;
}

export class HttpClient {
  private readonly agent: http.Agent;

  constructor(maxSockets: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(url: string | URL, options: HttpRequest = {}): Promise<HttpResponse> {
    const target = new URL(url);
    if (target.protocol !== 'http:' || target.hostname !== '127.0.0.1') {
      return Promise.reject(new Error(`the bench only talks to http://127.0.0.1, not ${target.origin}`));
    }
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.form) {
      body = new URLSearchParams(options.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    }
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const cookie = options.jar?.header(target);
    if (cookie) headers.cookie = cookie;
    return new Promise((resolve, reject) => {
      const req = http.request(target, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          if (options.jar) for (const line of res.headers['set-cookie'] ?? []) options.jar.store(target, line);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

/** RFC 6265 reduced to what two servers on one host need: host-only cookies, path, deletion. */
export class CookieJar {
  private cookies: Cookie[] = [];

  store(requestUrl: URL, setCookie: string): void {
    const [pair = '', ...attributes] = setCookie.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = defaultPath(requestUrl.pathname);
    let expired = false;
    for (const attribute of attributes) {
      const [rawKey = '', ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const attrValue = rest.join('=').trim();
      if (key === 'path' && attrValue.startsWith('/')) path = attrValue;
      else if (key === 'max-age' && /^-?\d+$/.test(attrValue) && Number(attrValue) <= 0) expired = true;
      else if (key === 'expires' && Date.parse(attrValue) <= Date.now()) expired = true;
    }
    this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path));
    if (!expired) this.cookies.push({ name, value, path });
  }

  header(url: URL): string | undefined {
    const matching = this.cookies.filter((c) => pathMatches(url.pathname, c.path)).sort((a, b) => b.path.length - a.path.length);
    return matching.length > 0 ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  get(name: string): string | undefined {
    return this.cookies.find((c) => c.name === name)?.value;
  }
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}

function defaultPath(requestPath: string): string {
  const lastSlash = requestPath.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : requestPath.slice(0, lastSlash);
}

/** `Basic` credentials for client_secret_basic (RFC 6749 §2.3.1: form-encoded, then base64). */
export function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/** Throws with the response's status and start of body unless the status is the expected one. */
export function expectStatus(response: HttpResponse, expected: number, what: string): void {
  if (response.status !== expected) {
    throw new Error(`${what}: expected ${expected}, got ${response.status}: ${response.body.slice(0, 300)}`);
  }
}

export function jsonOf<T>(response: HttpResponse): T {
  return JSON.parse(response.body) as T;
}
