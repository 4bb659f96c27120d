import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as client from 'openid-client';
import { Browser } from '../support/browser.js';
import { startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';

/**
 * DESIGN §4 "No secret in the log": after real flows, no plaintext secret (password, codes,
 * tokens, client secret, PKCE verifier, session secret, initial access token, KEK) is found in
 * any file of the data directory (SQLite log with its -wal/-shm, data-keys.db) nor in anything the
 * process printed, even at LOG_LEVEL=trace. Personal data (username, name) is not in the files
 * either: the log keeps an HMAC of the username and an encrypted profile.
 */

const USERNAME = `carol-${randomBytes(6).toString('hex')}`;
const PASSWORD = `Pw-${randomBytes(24).toString('base64url')}`;
const WRONG_PASSWORD = `Wrong-${randomBytes(24).toString('base64url')}`;
const INITIAL_ACCESS_TOKEN = `iat-${randomBytes(24).toString('base64url')}`;
const REDIRECT_URI = `https://rp-${randomBytes(4).toString('hex')}.example.test/callback`;
const SCOPE = 'openid profile';

interface Needle {
  label: string;
  bytes: Buffer;
  /** Personal data may appear in the logs (main.ts prints the demo username), not in the files. */
  filesOnly?: boolean;
}

interface Haystack {
  name: string;
  bytes: Buffer;
}

interface Hit {
  needle: string;
  haystack: string;
  offset: number;
}

/** Every occurrence of every needle, as raw bytes. */
function scan(haystacks: Haystack[], needles: Needle[]): Hit[] {
  const hits: Hit[] = [];
  for (const haystack of haystacks) {
    for (const needle of needles) {
      if (needle.bytes.length === 0) throw new Error(`empty needle ${needle.label}`);
      for (let at = haystack.bytes.indexOf(needle.bytes); at >= 0; at = haystack.bytes.indexOf(needle.bytes, at + 1)) {
        hits.push({ needle: needle.label, haystack: haystack.name, offset: at });
      }
    }
  }
  return hits;
}

function readTree(dir: string, prefix = ''): Haystack[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    const name = path.join(prefix, entry.name);
    if (entry.isDirectory()) return readTree(full, name);
    return entry.isFile() ? [{ name, bytes: fs.readFileSync(full) }] : [];
  });
}

const text = (label: string, value: string, filesOnly = false): Needle => ({ label, bytes: Buffer.from(value, 'utf8'), filesOnly });

/** A secret as sent on the wire and in the usual binary-to-text encodings. */
function encodings(label: string, value: string): Needle[] {
  const bytes = Buffer.from(value, 'utf8');
  return [
    text(label, value),
    text(`${label} (form-urlencoded)`, new URLSearchParams({ v: value }).toString().slice(2)),
    text(`${label} (base64)`, bytes.toString('base64').replace(/=+$/, '')),
    text(`${label} (base64url)`, bytes.toString('base64url')),
    text(`${label} (hex)`, bytes.toString('hex')),
    text(`${label} (HEX)`, bytes.toString('hex').toUpperCase()),
  ];
}

/** `<id>.<secret>` values (codes, session tokens, access-token ids): the whole and the secret half. */
function dotted(label: string, value: string): Needle[] {
  const dot = value.indexOf('.');
  if (dot <= 0) throw new Error(`${label} is not <id>.<secret>: ${value}`);
  return [text(label, value), text(`${label} secret part`, value.slice(dot + 1))];
}

function jwt(label: string, token: string): Needle[] {
  const [, payload = '', signature = ''] = token.split('.');
  const needles = [text(label, token), text(`${label} signature`, signature)];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { jti?: unknown };
  if (typeof claims.jti === 'string') needles.push(...dotted(`${label} jti`, claims.jti));
  return needles;
}

const clientOptions = () => ({ execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] });

let server: EmbeddedProcess;
const needles: Needle[] = [];
/** Known to be at rest: the scan must find them, or it proves nothing. */
const controls: { label: string; value: string }[] = [];
let filesWhileRunning: Haystack[] = [];
let filesAfterStop: Haystack[] = [];
let logs: Haystack;

async function codeFlow(config: client.Configuration, browser: Browser, pkce: boolean) {
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = pkce ? client.randomPKCECodeVerifier() : undefined;
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state,
    nonce,
    ...(codeVerifier
      ? { code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256' }
      : {}),
  });
  const result = await browser.authorize(url, { username: USERNAME, password: PASSWORD, consent: 'allow' });
  const code = result.callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${result.callback.href}`);
  const tokens = await client.authorizationCodeGrant(config, result.callback, {
    expectedState: state,
    expectedNonce: nonce,
    ...(codeVerifier ? { pkceCodeVerifier: codeVerifier } : {}),
  });
  return { code, codeVerifier, tokens, claims: tokens.claims()!, result };
}

beforeAll(async () => {
  server = await startEmbeddedProcess({
    env: {
      IDP_DEMO_USERNAME: USERNAME,
      IDP_DEMO_PASSWORD: PASSWORD,
      IDP_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN,
      LOG_LEVEL: 'trace',
    },
  });
  const issuer = new URL(server.issuer);
  needles.push(...encodings('password', PASSWORD), ...encodings('wrong password', WRONG_PASSWORD));
  needles.push(text('initial access token', INITIAL_ACCESS_TOKEN), text('username', USERNAME, true));

  // A confidential client (client_secret_basic), registered with the initial access token.
  const confidential = await client.dynamicClientRegistration(
    issuer,
    { client_name: 'no-secrets confidential', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: SCOPE },
    client.ClientSecretBasic(),
    { ...clientOptions(), initialAccessToken: INITIAL_ACCESS_TOKEN },
  );
  const clientSecret = confidential.clientMetadata().client_secret;
  if (typeof clientSecret !== 'string') throw new Error('no client_secret in the registration response');
  needles.push(text('client secret', clientSecret));
  controls.push({ label: 'confidential client_id', value: confidential.clientMetadata().client_id });
  controls.push({ label: 'redirect URI', value: REDIRECT_URI });

  // RFC 7592: the registration access token, and a secret rotated through it on a second client.
  const managed = (await (
    await fetch(`${server.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` },
      body: JSON.stringify({ client_name: 'no-secrets managed', redirect_uris: [REDIRECT_URI] }),
    })
  ).json()) as { client_id: string; client_secret: string; registration_access_token: string; registration_client_uri: string };
  const registrationAccessToken = managed.registration_access_token;
  if (typeof registrationAccessToken !== 'string') throw new Error('no registration_access_token in the registration response');
  const rotated = (await (
    await fetch(managed.registration_client_uri, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${registrationAccessToken}` },
      body: JSON.stringify({ client_id: managed.client_id, redirect_uris: [REDIRECT_URI], client_secret: managed.client_secret, rotate_client_secret: true }),
    })
  ).json()) as { client_secret?: string };
  if (typeof rotated.client_secret !== 'string') throw new Error('no rotated client_secret in the update response');
  needles.push(
    text('registration access token', registrationAccessToken),
    text('managed client secret', managed.client_secret),
    text('rotated client secret', rotated.client_secret),
  );

  // A public client with PKCE.
  const publicClient = await client.dynamicClientRegistration(
    issuer,
    { client_name: 'no-secrets public', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', scope: SCOPE },
    client.None(),
    { ...clientOptions(), initialAccessToken: INITIAL_ACCESS_TOKEN },
  );
  controls.push({ label: 'public client_id', value: publicClient.clientMetadata().client_id });

  const browser = new Browser();
  // A failed login first: the attempted password must not be kept either.
  const loginPage = await browser.get(
    client.buildAuthorizationUrl(confidential, { redirect_uri: REDIRECT_URI, scope: SCOPE, state: client.randomState() }),
  );
  const rid = /name="rid" value="([^"]+)"/.exec(loginPage.body)?.[1];
  const failed = await browser.postForm(new URL('/authorize/login', issuer), { rid: rid ?? '', username: USERNAME, password: WRONG_PASSWORD });
  if (failed.status !== 401) throw new Error(`the failed login answered ${failed.status}`);

  const first = await codeFlow(confidential, browser, false);
  const session = browser.cookie('idp_session');
  if (!session) throw new Error('no idp_session cookie after login');
  needles.push(...dotted('session cookie', decodeURIComponent(session.value)));
  const second = await codeFlow(publicClient, browser, true);

  for (const [label, flow] of [['confidential', first], ['public', second]] as const) {
    needles.push(...dotted(`${label} code`, flow.code));
    needles.push(...jwt(`${label} access token`, flow.tokens.access_token));
    needles.push(...jwt(`${label} ID token`, flow.tokens.id_token!));
    const userinfo = await client.fetchUserInfo(label === 'public' ? publicClient : confidential, flow.tokens.access_token, flow.claims.sub);
    if (typeof userinfo.name === 'string') needles.push(text('name', userinfo.name, true));
    controls.push({ label: `${label} grant id`, value: flow.code.slice(0, flow.code.indexOf('.')) });
  }
  needles.push(text('PKCE code_verifier', second.codeVerifier!));

  // Error paths log too: a wrong verifier, a replayed code, a wrong client secret.
  const wrongVerifier = client.randomPKCECodeVerifier();
  needles.push(text('wrong PKCE code_verifier', wrongVerifier));
  const third = await (async () => {
    const state = client.randomState();
    const codeVerifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(publicClient, {
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      state,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    const { callback } = await browser.authorize(url, { username: USERNAME, password: PASSWORD, consent: 'allow' });
    await client
      .authorizationCodeGrant(publicClient, callback, { expectedState: state, pkceCodeVerifier: wrongVerifier })
      .then(() => Promise.reject(new Error('a wrong code_verifier was accepted')), () => undefined);
    needles.push(text('PKCE code_verifier (unused)', codeVerifier));
    return callback.searchParams.get('code')!;
  })();
  needles.push(...dotted('third code', third));
  const replay = await fetch(new URL('/token', issuer), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${confidential.clientMetadata().client_id}:${clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: first.code, redirect_uri: REDIRECT_URI }),
  });
  if (replay.status !== 400) throw new Error(`the replayed code answered ${replay.status}`);
  const wrongSecret = randomBytes(32).toString('base64url');
  needles.push(text('wrong client secret', wrongSecret));
  const wrongClient = await fetch(new URL('/token', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: third,
      redirect_uri: REDIRECT_URI,
      client_id: confidential.clientMetadata().client_id,
      client_secret: wrongSecret,
    }),
  });
  if (wrongClient.status !== 401) throw new Error(`a wrong client secret answered ${wrongClient.status}`);

  filesWhileRunning = readTree(server.dataDir);
  await server.stop();
  filesAfterStop = readTree(server.dataDir);
  logs = { name: 'stdout+stderr', bytes: Buffer.from(server.logs(), 'utf8') };

  // The KEK is in its own file by design, and nowhere else.
  const kekText = fs.readFileSync(path.join(server.dataDir, 'kek'), 'utf8').trim();
  needles.push(
    { label: 'KEK (raw bytes)', bytes: Buffer.from(kekText, 'base64url') },
    text('KEK (base64url)', kekText),
    text('KEK (hex)', Buffer.from(kekText, 'base64url').toString('hex')),
  );
}, 90_000);

afterAll(async () => {
  if (!server) return;
  await server.stop();
  fs.rmSync(server.dataDir, { recursive: true, force: true });
}, 30_000);

const withoutKekFile = (files: Haystack[]) => files.filter((f) => f.name !== 'kek');
const describeHits = (hits: Hit[]) => hits.map((h) => `${h.needle} in ${h.haystack} at ${h.offset}`);

describe('no secrets at rest (embedded IdP, SQLite)', () => {
  it('the scan finds what is known to be there (so an empty scan cannot pass)', () => {
    expect(server.exitCode()).toBe(0);
    const names = filesWhileRunning.map((f) => f.name);
    // Everything the brief names was scanned: the log with its WAL, and the data keys.
    expect(names).toEqual(expect.arrayContaining(['idp.db', 'idp.db-wal', 'data-keys.db', 'kek']));
    expect(filesAfterStop.map((f) => f.name)).toEqual(expect.arrayContaining(['idp.db', 'data-keys.db']));
    expect(needles.length).toBeGreaterThan(40);

    const controlNeedles = controls.map((c) => text(c.label, c.value));
    for (const files of [filesWhileRunning, filesAfterStop]) {
      const found = new Set(scan(files, controlNeedles).map((h) => h.needle));
      expect([...found].sort()).toEqual(controls.map((c) => c.label).sort());
    }
    expect(scan(filesAfterStop.filter((f) => f.name === 'idp.db'), controlNeedles).length).toBeGreaterThan(0);
    expect(scan([logs], [text('ready line', 'embedded IdP listening')])).toHaveLength(1);

    // Every needle is found when planted, in every encoding we search for.
    const planted: Haystack = { name: 'planted', bytes: Buffer.concat(needles.flatMap((n) => [Buffer.from('\0x'), n.bytes])) };
    expect(new Set(scan([planted], needles).map((h) => h.needle)).size).toBe(new Set(needles.map((n) => n.label)).size);
  });

  it('no secret or personal data in the data directory while the server runs (SQLite log, -wal, -shm, data-keys.db)', () => {
    const kek = needles.filter((n) => n.label.startsWith('KEK'));
    expect(kek).toHaveLength(3);
    expect(describeHits(scan(withoutKekFile(filesWhileRunning), needles))).toEqual([]);
  });

  it('no secret or personal data in the data directory after a clean stop', () => {
    expect(describeHits(scan(withoutKekFile(filesAfterStop), needles))).toEqual([]);
  });

  it('no secret in anything the process printed (LOG_LEVEL=trace)', () => {
    expect(logs.bytes.length).toBeGreaterThan(0);
    expect(describeHits(scan([logs], needles.filter((n) => !n.filesOnly)))).toEqual([]);
  });
});
