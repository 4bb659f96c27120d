import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { SqliteDataKeyStore } from '../../infra/crypto/data-keys/sqlite.js';
import { parseKek } from '../../infra/crypto/kek.js';
import { Browser } from '../support/browser.js';
import { startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';

/**
 * Issue 10 point 4, end to end: once a user's data key is destroyed (what `forget` will do), the
 * password hash sealed under it is unreadable, so the user cannot log in: the password grant
 * answers `invalid_grant` (400), the login form its usual 401 page, never a 500; and the log on
 * disk holds no argon2id PHC string for anyone.
 */
const USERNAME = `erin-${randomBytes(4).toString('hex')}`;
const PASSWORD = `Pw-${randomBytes(18).toString('base64url')}`;
const INITIAL_ACCESS_TOKEN = `iat-${randomBytes(18).toString('base64url')}`;
const REDIRECT_URI = 'https://rp.example.test/callback';

let server: EmbeddedProcess;
let dataDir: string;
const start = (port?: number) =>
  startEmbeddedProcess({
    ...(dataDir ? { dataDir } : {}),
    ...(port ? { port } : {}),
    env: { IDP_DEMO_USERNAME: USERNAME, IDP_DEMO_PASSWORD: PASSWORD, IDP_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN },
  });

afterAll(async () => {
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

const register = () =>
  client.dynamicClientRegistration(
    new URL(server.issuer),
    { grant_types: ['password', 'authorization_code'], response_types: ['code'], redirect_uris: [REDIRECT_URI], scope: 'openid' },
    client.ClientSecretBasic(),
    { execute: [client.allowInsecureRequests], initialAccessToken: INITIAL_ACCESS_TOKEN },
  );

const passwordGrant = (config: client.Configuration, password = PASSWORD) =>
  fetch(new URL('/token', server.issuer), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${config.clientMetadata().client_id}:${config.clientMetadata().client_secret as string}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'password', username: USERNAME, password, scope: 'openid' }),
  });

async function loginFormStatus(config: client.Configuration): Promise<number> {
  const browser = new Browser();
  const page = await browser.get(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: client.randomState() }));
  const rid = /name="rid" value="([^"]+)"/.exec(page.body)?.[1];
  if (!rid) throw new Error(`no login form: ${page.status}`);
  return (await browser.postForm(new URL('/authorize/login', server.issuer), { rid, username: USERNAME, password: PASSWORD })).status;
}

describe('a forgotten user (data key destroyed) cannot log in (embedded, SQLite)', () => {
  it('logs in before; after the key is destroyed: invalid_grant at /token, 401 at the login form, no 500, no PHC string on disk', async () => {
    server = await start();
    dataDir = server.dataDir;
    const config = await register();
    const before = await passwordGrant(config);
    expect(before.status).toBe(200);
    const { access_token } = (await before.json()) as { access_token: string };
    const sub = decodeJwt(access_token).sub!;
    expect(await loginFormStatus(config)).not.toBe(401);

    // Destroy the user's data key with the server stopped, as an operator's tool would.
    const port = server.port;
    await server.stop();
    const kek = parseKek(fs.readFileSync(path.join(dataDir, 'kek'), 'utf8'));
    const dataKeys = SqliteDataKeyStore.open(path.join(dataDir, 'data-keys.db'), kek);
    expect(await dataKeys.get('default', sub)).toBeDefined();
    await dataKeys.destroy('default', sub);
    await dataKeys.close();

    server = await start(port);
    const after = await passwordGrant(config);
    expect(after.status).toBe(400);
    expect(await after.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await passwordGrant(config, 'wrong')).status).toBe(400);
    expect(await loginFormStatus(config)).toBe(401);
    expect(server.logs()).not.toMatch(/"level":(50|60)/);

    await server.stop();
    for (const name of fs.readdirSync(dataDir)) {
      const bytes = fs.readFileSync(path.join(dataDir, name));
      expect({ name, phc: bytes.includes('$argon2id$') }).toEqual({ name, phc: false });
    }
  }, 120_000);
});
