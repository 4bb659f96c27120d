import { createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import fs from 'node:fs';
import { deriveKey, parseKek } from '../../infra/crypto/kek.js';
import { startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';
import { requestFrom } from '../support/http-from.js';
import { watchSqliteLog } from '../support/log-watch.js';

/**
 * IDP_TRUST_PROXY in the embedded server, with a known KEK: the registration rate limit counts
 * per client address (the forwarded one behind a trusted proxy, the peer otherwise), and the
 * source authn records for a failed login is exactly HMAC(deriveKey(KEK, 'login-source'),
 * "source:<tenant>:<client address>"), under a key of its own. (Both topologies check the sources'
 * equality through a proxy in the authorization code suite.)
 */
const PROXY = '127.0.0.2';
const DIRECT_PEER = '127.0.0.3';
const KEK = randomBytes(32).toString('base64url');
const TOKEN = randomBytes(24).toString('base64url');
const USER = { username: 'proxied-user', password: 'a-long-enough-password' };

let server: EmbeddedProcess;

beforeAll(async () => {
  server = await startEmbeddedProcess({
    env: {
      IDP_KEK: KEK,
      IDP_TRUST_PROXY: PROXY,
      IDP_INITIAL_ACCESS_TOKEN: TOKEN,
      // One refill a minute: the few requests of a test below all come from a full bucket.
      IDP_REGISTRATION_RATE: '1/minute,burst=2',
      IDP_DEMO_USERNAME: USER.username,
      IDP_DEMO_PASSWORD: USER.password,
    },
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
});

/** A registration without the token: 401 when the rate allows it, 429 when not (the limit comes first). */
const registrationStatus = async (peer: string, forwardedFor?: string) =>
  (
    await requestFrom(peer, `${server.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }) },
      body: JSON.stringify({ redirect_uris: ['https://rp.example.test/cb'] }),
    })
  ).status;

describe('the registration rate limit counts per client address', () => {
  it('behind the trusted proxy, per forwarded address: one client is limited, another is not', async () => {
    expect(await registrationStatus(PROXY, '198.51.100.20')).toBe(401);
    expect(await registrationStatus(PROXY, '198.51.100.20')).toBe(401);
    expect(await registrationStatus(PROXY, '198.51.100.20')).toBe(429);
    expect(await registrationStatus(PROXY, '198.51.100.21')).toBe(401);
  });

  it('from a peer that is not the proxy, per peer: a different forged X-Forwarded-For on each request buys nothing', async () => {
    expect(await registrationStatus(DIRECT_PEER, '198.51.100.30')).toBe(401);
    expect(await registrationStatus(DIRECT_PEER, '198.51.100.31')).toBe(401);
    expect(await registrationStatus(DIRECT_PEER, '198.51.100.32')).toBe(429);
  });
});

describe("a failed login's recorded source", () => {
  const kek = parseKek(KEK);
  const hmac = (key: Buffer, address: string) => createHmac('sha256', key).update(`source:default:${address}`).digest('hex');
  let client: Record<string, string>;

  beforeAll(async () => {
    const registered = await requestFrom('127.0.0.1', `${server.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ grant_types: ['password'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_post', scope: 'openid' }),
    });
    expect(registered.status).toBe(201);
    const { client_id, client_secret } = JSON.parse(registered.body) as Record<string, string>;
    client = { client_id: client_id!, client_secret: client_secret! };
  });

  const failedLoginSource = async (peer: string, forwardedFor?: string) => {
    const log = await watchSqliteLog(path.join(server.dataDir, 'idp.db'));
    try {
      const response = await requestFrom(peer, `${server.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }) },
        body: new URLSearchParams({ grant_type: 'password', ...client, username: USER.username, password: 'wrong', scope: 'openid' }).toString(),
      });
      expect(response.status).toBe(400);
      const failed = (await log.appendedEvents()).filter((event) => event.type === 'authentication.failed');
      expect(failed).toHaveLength(1);
      return failed[0]!.data.source;
    } finally {
      await log.close();
    }
  };

  it('through the trusted proxy: the HMAC of the forwarded address under the login source key', async () => {
    const source = await failedLoginSource(PROXY, '198.51.100.1');
    expect(source).toBe(hmac(deriveKey(kek, 'login-source'), '198.51.100.1'));
    // Not under the key whose HMACs name the accounts.
    expect(source).not.toBe(hmac(deriveKey(kek, 'username-digest'), '198.51.100.1'));
  });

  it('from a peer that is not the proxy: the HMAC of the peer, whatever X-Forwarded-For says', async () => {
    expect(await failedLoginSource(DIRECT_PEER, '198.51.100.1')).toBe(hmac(deriveKey(kek, 'login-source'), DIRECT_PEER));
  });

  it('an IPv6 client counts by its /64', async () => {
    const source = await failedLoginSource(PROXY, '2001:db8:1:2:aaaa::1');
    expect(source).toBe(hmac(deriveKey(kek, 'login-source'), '2001:db8:1:2::/64'));
    expect(await failedLoginSource(PROXY, '2001:db8:1:2:bbbb::7')).toBe(source);
  });

  it('no client address appears in the log (the SQLite file and its WAL)', () => {
    const files = ['idp.db', 'idp.db-wal'].map((name) => path.join(server.dataDir, name)).filter((file) => fs.existsSync(file));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      for (const address of ['198.51.100.1', DIRECT_PEER, '2001:db8:1:2']) expect([file, bytes.includes(address)]).toEqual([file, false]);
    }
  });
});
