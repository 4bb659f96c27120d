import * as client from 'openid-client';
import type { LogWatch } from '../../../support/log-watch.js';
import { clientIdOf, secretOf, type Fixtures } from './fixtures.js';

/**
 * One row of the negative table: a request a client (or an attacker) may send, and exactly how
 * the server must answer it: status, `error` code, the headers that matter, what it appends to
 * the log (nothing, unless the refusal is itself a fact worth recording), and what must hold
 * afterwards.
 */
export interface NegativeCase {
  name: string;
  /** What the request needs that must be fresh (a lineage to spend, a token to revoke); its appends are not the case's. */
  prepare?: (fx: Fixtures) => Promise<Prepared>;
  /** Sends the request under test and returns the server's raw response. */
  send: (fx: Fixtures, prepared: Prepared) => Promise<Response>;
  expect: Expected;
  /** Types of the events the request must append, in order (default: none at all). */
  appends?: string[];
  /** What must hold after the answer (a lineage dead, another client's token still active). */
  then?: (fx: Fixtures, prepared: Prepared) => Promise<void>;
}

export type Prepared = Record<string, string>;

export interface Expected {
  status: number;
  /** The OAuth `error` code; absent for a success (whose body `body` gives, if any). */
  error?: string;
  /** The exact JSON body of a success (RFC 7009's 200 has none: `undefined`). */
  body?: Record<string, unknown>;
  /** Headers that must match (a RegExp) or be absent (null). */
  headers?: Record<string, RegExp | null>;
}

/** RFC 6749 §5.2: `error_description` is limited to these characters (no quote, no backslash, ASCII only). */
const DESCRIPTION_CHARSET = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/;

/** Runs one case against the fixtures, reading the log before and after the request. */
export async function runCase(c: NegativeCase, fx: Fixtures, log: LogWatch): Promise<void> {
  const prepared = (await c.prepare?.(fx)) ?? {};
  await log.appended(); // what preparing appended is not the case's
  const response = await c.send(fx, prepared);
  const text = await response.text();
  const contentType = response.headers.get('content-type');

  // Never a server error, never an HTML page: an OAuth JSON answer (or RFC 7009's empty 200).
  expect(response.status).toBeLessThan(500);
  let body: Record<string, unknown> | undefined;
  if (text !== '') {
    expect(contentType).toMatch(/^application\/json\b/);
    body = JSON.parse(text) as Record<string, unknown>;
  }
  const actual = {
    status: response.status,
    ...(c.expect.error !== undefined ? { error: body?.error } : { body }),
    headers: Object.fromEntries(Object.keys(c.expect.headers ?? {}).map((name) => [name, response.headers.get(name)])),
  };
  expect(actual).toEqual({
    status: c.expect.status,
    ...(c.expect.error !== undefined ? { error: c.expect.error } : { body: c.expect.body }),
    headers: Object.fromEntries(
      Object.entries(c.expect.headers ?? {}).map(([name, value]) => [name, value === null ? null : expect.stringMatching(value)]),
    ),
  });
  if (c.expect.error !== undefined) {
    expect(response.headers.get('cache-control')).toBe('no-store');
    // RFC 6749 §5.2: only the error members, a description in the allowed characters.
    expect(Object.keys(body!).filter((key) => key !== 'error' && key !== 'error_description')).toEqual([]);
    if (body!.error_description !== undefined) {
      expect(body!.error_description).toEqual(expect.stringMatching(DESCRIPTION_CHARSET));
      expect(String(body!.error_description).length).toBeLessThanOrEqual(200);
    }
  }
  expect(await log.appended()).toEqual(c.appends ?? []);
  await c.then?.(fx, prepared);
}

/** How a request authenticates its client (RFC 6749 §2.3). */
export type ClientCredentials =
  | { basic: { id: string; secret: string } }
  | { post: { id: string; secret: string } }
  | { id: string }
  | 'anonymous';

export const basicOf = (config: client.Configuration): ClientCredentials => ({ basic: { id: clientIdOf(config), secret: secretOf(config) } });
export const postOf = (config: client.Configuration): ClientCredentials => ({ post: { id: clientIdOf(config), secret: secretOf(config) } });

/** RFC 6749 §2.3.1: each part form-urlencoded, then base64. */
export const basicHeader = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export const basicHeaderOf = (config: client.Configuration) => basicHeader(clientIdOf(config), secretOf(config));

/** A well-formed form POST with the given client authentication. */
export function postForm(fx: Fixtures, path: string, params: Record<string, string> | [string, string][], credentials: ClientCredentials): Promise<Response> {
  const form = new URLSearchParams(params);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (credentials !== 'anonymous') {
    if ('basic' in credentials) headers.authorization = basicHeader(credentials.basic.id, credentials.basic.secret);
    else if ('post' in credentials) {
      form.set('client_id', credentials.post.id);
      form.set('client_secret', credentials.post.secret);
    } else form.set('client_id', credentials.id);
  }
  return fetch(`${fx.issuer}${path}`, { method: 'POST', headers, body: form.toString(), redirect: 'manual' });
}

/** Any raw POST: for bodies no client library would send. */
export function postRaw(fx: Fixtures, path: string, headers: Record<string, string>, body: string | Uint8Array): Promise<Response> {
  return fetch(`${fx.issuer}${path}`, { method: 'POST', headers, body, redirect: 'manual' });
}

/**
 * Runs an openid-client call that must be refused, and returns the server's response to it (the
 * last request the call made), so the case checks the wire rather than the library's reading of it.
 */
export async function refusedLibraryCall(config: client.Configuration, call: () => Promise<unknown>): Promise<Response> {
  let last: Response | undefined;
  config[client.customFetch] = async (url, options) => {
    const response = await fetch(url, options as RequestInit);
    last = response.clone();
    return response;
  };
  try {
    await call().then(
      () => {
        throw new Error('the library call succeeded; it had to be refused');
      },
      (error: unknown) => {
        if (!(error instanceof client.ResponseBodyError || error instanceof client.WWWAuthenticateChallengeError)) throw error;
      },
    );
  } finally {
    delete config[client.customFetch];
  }
  return last!;
}

/** Userinfo's status for an access token (RFC 6750). */
export async function userinfoStatus(fx: Fixtures, accessToken: string): Promise<number> {
  return (await fetch(`${fx.issuer}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
