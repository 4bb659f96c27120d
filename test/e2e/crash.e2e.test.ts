import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { basicAuth, HttpClient, type HttpResponse } from '../bench/http.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { verifyLog, type IntegrityReport } from '../../services/shared/integrity/verify-log.js';
import { Browser } from '../support/browser.js';
import { freePort, startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';

/**
 * Crash (issue 10): the embedded process is killed with SIGKILL in the middle of a load of token
 * requests (client credentials, code flows, refreshes, from a few concurrent workers), then
 * started again on the same log. A token answered with 200 before the kill is a promise the log
 * kept: its event is in the log, introspection says it is active, and a refresh token the client
 * had not presented yet refreshes once. And the hash chain of the log verifies, both as the crash
 * left it and after the restart. (restart.e2e.test.ts covers a graceful stop: sessions, consent,
 * clients and keys surviving; this covers the crash under load.)
 *
 * Bounded: WORKERS workers of at most MAX_STEPS steps each; the kill comes once KILL_AFTER token
 * responses were answered and another token request is in flight. No randomness in the schedule.
 */
const WORKERS = 4;
const MAX_STEPS = 60;
const KILL_AFTER = 30;

const USERNAME = `crash-${randomBytes(4).toString('hex')}`;
const PASSWORD = `pw-${randomBytes(12).toString('base64url')}`;
const REDIRECT_URI = 'https://rp.example.test/crash-cb';
const env = { IDP_DEMO_USERNAME: USERNAME, IDP_DEMO_PASSWORD: PASSWORD };

interface Client {
  clientId: string;
  authorization: string;
}

/** A token response answered with 200, as the client holds it. */
interface Answered {
  kind: 'client_credentials' | 'authorization_code' | 'refresh_token';
  client: Client;
  accessToken: string;
  refreshToken?: string;
}

let dataDir: string;
let server: EmbeddedProcess | undefined;
let http: HttpClient;

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-e2e-crash-'));
  http = new HttpClient(WORKERS * 2);
});

afterAll(async () => {
  http.close();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

const json = <T>(response: HttpResponse): T => JSON.parse(response.body) as T;

async function register(issuer: string, metadata: Record<string, unknown>): Promise<Client> {
  const response = await http.request(`${issuer}/register`, { json: { token_endpoint_auth_method: 'client_secret_basic', ...metadata } });
  expect(response.status).toBe(201);
  const { client_id, client_secret } = json<{ client_id: string; client_secret: string }>(response);
  return { clientId: client_id, authorization: basicAuth(client_id, client_secret) };
}

async function verifyLogFile(file: string): Promise<IntegrityReport> {
  const store = SqliteEventStore.open(file);
  try {
    return await verifyLog(store);
  } finally {
    await store.close();
  }
}

/** The SHA-256 of the secret half of an access token's `jti` (`<grant id>.<secret>`): what the log records. */
function accessTokenIdHash(accessToken: string): string {
  const { jti } = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string };
  return createHash('sha256').update(jti.slice(jti.indexOf('.') + 1)).digest('hex');
}

describe('kill -9 under load, then restart on the same log', () => {
  it('every token answered 200 before the kill still works, and the hash chain verifies', async () => {
    const port = await freePort();
    server = await startEmbeddedProcess({ dataDir, port, env });
    const issuer = server.issuer;
    const machine = await register(issuer, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'profile' });
    const app = await register(issuer, { grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI], scope: 'openid offline_access' });

    const answered: Answered[] = [];
    /** Refresh tokens sent in a request: whether the rotation committed is unknown if the kill came first. */
    const presented = new Set<string>();
    let tokenRequestsInFlight = 0;
    let killing: Promise<void> | undefined;
    let inFlightAtKill = -1;

    /** POST /token; a 200 is recorded as answered, and may be the moment to kill. */
    async function token(kind: Answered['kind'], client: Client, form: Record<string, string>): Promise<Answered> {
      tokenRequestsInFlight++;
      let response: HttpResponse;
      try {
        response = await http.request(`${issuer}/token`, { form, headers: { authorization: client.authorization } });
      } finally {
        tokenRequestsInFlight--;
      }
      if (response.status !== 200) throw new Error(`${kind}: ${response.status} ${response.body.slice(0, 300)}`);
      const body = json<{ access_token: string; refresh_token?: string }>(response);
      const entry: Answered = { kind, client, accessToken: body.access_token, ...(body.refresh_token ? { refreshToken: body.refresh_token } : {}) };
      answered.push(entry);
      if (!killing && answered.length >= KILL_AFTER && tokenRequestsInFlight > 0) {
        inFlightAtKill = tokenRequestsInFlight;
        killing = server!.kill();
      }
      return entry;
    }

    async function codeFlow(browser: Browser): Promise<Answered> {
      const verifier = randomBytes(32).toString('base64url');
      const url = new URL(`${issuer}/authorize`);
      url.search = new URLSearchParams({
        client_id: app.clientId,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'openid offline_access',
        state: 's',
        nonce: 'n',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      const { callback } = await browser.authorize(url, { username: USERNAME, password: PASSWORD, consent: 'allow' });
      const code = callback.searchParams.get('code');
      if (!code) throw new Error(`no code in ${callback.href}`);
      return token('authorization_code', app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    }

    // Each worker signs in once (its own browser, its own session), then loops over the three
    // kinds of token request, each refresh using the newest unused refresh token it holds.
    const browsers = Array.from({ length: WORKERS }, () => new Browser());
    const unused: string[][] = browsers.map(() => []);
    for (const [w, browser] of browsers.entries()) unused[w]!.push((await codeFlow(browser)).refreshToken!);

    async function worker(w: number): Promise<void> {
      for (let step = 0; step < MAX_STEPS && !killing; step++) {
        const kind = (['client_credentials', 'authorization_code', 'refresh_token'] as const)[(w + step) % 3]!;
        try {
          if (kind === 'client_credentials') {
            await token(kind, machine, { grant_type: 'client_credentials' });
          } else if (kind === 'authorization_code' || unused[w]!.length === 0) {
            unused[w]!.push((await codeFlow(browsers[w]!)).refreshToken!);
          } else {
            const refreshToken = unused[w]!.pop()!;
            presented.add(refreshToken);
            unused[w]!.push((await token(kind, app, { grant_type: 'refresh_token', refresh_token: refreshToken })).refreshToken!);
          }
        } catch (error) {
          // Only the kill may end a request without an answer.
          if (killing) return;
          throw error;
        }
      }
    }
    await Promise.all(browsers.map((_, w) => worker(w)));
    if (!killing) throw new Error(`no moment to kill in ${WORKERS} × ${MAX_STEPS} steps (${answered.length} answered)`);
    await killing;
    expect(server.exitCode()).toBeNull();
    expect(inFlightAtKill).toBeGreaterThan(0);
    for (const kind of ['client_credentials', 'authorization_code', 'refresh_token'] as const) {
      expect(answered.filter((a) => a.kind === kind).length).toBeGreaterThan(0);
    }

    // The log as the crash left it: every answered token's event is there, the chain is whole.
    const logFile = path.join(dataDir, 'idp.db');
    const crashed = await verifyLogFile(logFile);
    expect(crashed).toMatchObject({ ok: true, failureCount: 0 });
    expect(crashed.eventsChecked).toBeGreaterThan(answered.length);
    const store = SqliteEventStore.open(logFile);
    const recorded = new Set<string>();
    try {
      for (const event of await store.readAll()) {
        const data = event.data as { accessTokenIdHash?: unknown };
        if (typeof data.accessTokenIdHash === 'string') recorded.add(data.accessTokenIdHash);
      }
    } finally {
      await store.close();
    }
    expect(answered.filter((a) => !recorded.has(accessTokenIdHash(a.accessToken))).map((a) => a.kind)).toEqual([]);

    server = await startEmbeddedProcess({ dataDir, port, env });
    expect(server.issuer).toBe(issuer);

    const introspect = async (client: Client, accessToken: string) =>
      json<{ active: boolean; client_id?: string }>(
        await http.request(`${issuer}/introspect`, { form: { token: accessToken }, headers: { authorization: client.authorization } }),
      );
    for (const entry of answered) {
      expect({ kind: entry.kind, ...(await introspect(entry.client, entry.accessToken)) }).toMatchObject({
        kind: entry.kind,
        active: true,
        client_id: entry.client.clientId,
      });
    }
    // Every refresh token the clients had not presented yet refreshes once, to a live token.
    const refreshable = answered.flatMap((a) => (a.refreshToken && !presented.has(a.refreshToken) ? [a.refreshToken] : []));
    expect(refreshable.length).toBeGreaterThanOrEqual(WORKERS);
    for (const refreshToken of refreshable) {
      const response = await http.request(`${issuer}/token`, {
        form: { grant_type: 'refresh_token', refresh_token: refreshToken },
        headers: { authorization: app.authorization },
      });
      expect({ status: response.status, body: response.status === 200 ? '' : response.body }).toEqual({ status: 200, body: '' });
      expect(await introspect(app, json<{ access_token: string }>(response).access_token)).toMatchObject({ active: true });
    }

    // And the chain still verifies with the new process's appends after the crash's.
    const after = await verifyLogFile(logFile);
    expect(after).toMatchObject({ ok: true, failureCount: 0 });
    expect(after.eventsChecked).toBeGreaterThan(crashed.eventsChecked);
  }, 240_000);
});
