import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as client from 'openid-client';
import { Browser } from '../support/browser.js';
import { freePort, startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';

/**
 * The embedded IdP keeps its state in the log (SQLite) and its keys under the KEK: a new process
 * on the same data directory, same port and so same issuer, carries on where the old one stopped.
 * Projections are in memory and rebuilt from the log at start (DESIGN §6, §8).
 */

const USERNAME = `bob-${randomBytes(4).toString('hex')}`;
const PASSWORD = `pw-${randomBytes(12).toString('base64url')}`;
const REDIRECT_URI = 'https://rp.example.test/callback';
const SCOPE = 'openid profile';
const env = { IDP_DEMO_USERNAME: USERNAME, IDP_DEMO_PASSWORD: PASSWORD };

const clientOptions = () => ({ execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] });

let dataDir: string;
let server: EmbeddedProcess | undefined;

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-e2e-restart-'));
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

async function codeFlow(config: client.Configuration, browser: Browser) {
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  const result = await browser.authorize(url, { username: USERNAME, password: PASSWORD, consent: 'allow' });
  const tokens = await client.authorizationCodeGrant(config, result.callback, {
    expectedState: state,
    expectedNonce: nonce,
    pkceCodeVerifier: codeVerifier,
  });
  return { result, tokens, claims: tokens.claims()! };
}

async function jwksKids(issuer: string): Promise<string[]> {
  const response = await fetch(`${issuer}/jwks`);
  expect(response.status).toBe(200);
  const { keys } = (await response.json()) as { keys: Array<{ kid: string }> };
  return keys.map((k) => k.kid);
}

const kidOf = (jwt: string): string =>
  (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;

describe('restart on the same data directory', () => {
  it('keeps issued access tokens valid, revoked ones revoked, the registered client and its secret, the session and the consent', async () => {
    const port = await freePort();
    server = await startEmbeddedProcess({ dataDir, port, env });
    const issuer = server.issuer;

    const registered = await client.dynamicClientRegistration(
      new URL(issuer),
      { client_name: 'restart e2e', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: SCOPE },
      client.ClientSecretBasic(),
      clientOptions(),
    );
    const clientId = registered.clientMetadata().client_id;
    const clientSecret = registered.clientMetadata().client_secret as string;
    expect(clientSecret).toEqual(expect.any(String));
    const browser = new Browser();
    const before = await codeFlow(registered, browser);
    expect(before.result.sawLogin).toBe(true);
    expect(before.result.sawConsent).toBe(true);
    const sub = before.claims.sub;
    await expect(client.fetchUserInfo(registered, before.tokens.access_token, sub)).resolves.toMatchObject({ sub });
    const kidsBefore = await jwksKids(issuer);

    // A second grant whose code is replayed: its tokens are revoked, and must stay revoked.
    const revoked = await codeFlow(registered, browser);
    expect(revoked.result.sawLogin).toBe(false);
    const replay = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: revoked.result.callback.searchParams.get('code')!,
        redirect_uri: REDIRECT_URI,
      }),
    });
    expect(replay.status).toBe(400);
    const revokedUserinfo = () => fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${revoked.tokens.access_token}` } });
    expect((await revokedUserinfo()).status).toBe(401);

    await server.stop();
    expect(server.exitCode()).toBe(0);
    const down = await fetch(`${issuer}/jwks`).then(
      () => 'still up',
      () => 'down',
    );
    expect(down).toBe('down');

    server = await startEmbeddedProcess({ dataDir, port, env });
    expect(server.issuer).toBe(issuer);

    // The access token issued by the first process is still accepted by the second.
    const userinfo = await fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${before.tokens.access_token}` } });
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toMatchObject({ sub, preferred_username: USERNAME });
    // The revocation is in the log, so the rebuilt projections still refuse the revoked token.
    const stillRevoked = await revokedUserinfo();
    expect(stillRevoked.status).toBe(401);
    expect(stillRevoked.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);

    // The signing keys survived: the old tokens' keys are still published.
    const kidsAfter = await jwksKids(issuer);
    expect(kidsAfter).toEqual(expect.arrayContaining([kidOf(before.tokens.access_token), kidOf(before.tokens.id_token!)]));
    expect(kidsAfter).toEqual(expect.arrayContaining(kidsBefore));

    // The client registered with the first process still exists and authenticates with its secret;
    // a fresh configuration from discovery, as a client application restarting too would have.
    const rediscovered = await client.discovery(new URL(issuer), clientId, clientSecret, client.ClientSecretBasic(), clientOptions());
    const after = await codeFlow(rediscovered, browser);
    // The session (cookie from the first process) and the consent were both kept.
    expect(after.result.sawLogin).toBe(false);
    expect(after.result.sawConsent).toBe(false);
    expect(after.claims).toMatchObject({ sub, sid: before.claims.sid, iss: issuer });
    await expect(client.fetchUserInfo(rediscovered, after.tokens.access_token, sub)).resolves.toMatchObject({ sub });

    // And a browser without a session logs in again and is not asked for consent again.
    const fresh = await codeFlow(rediscovered, new Browser());
    expect(fresh.result.sawLogin).toBe(true);
    expect(fresh.result.sawConsent).toBe(false);
    expect(fresh.claims.sub).toBe(sub);

    // A wrong secret is still refused: the client authenticates, it is not merely known.
    const wrong = await client.discovery(new URL(issuer), clientId, 'not-the-secret', client.ClientSecretBasic(), clientOptions());
    const state = client.randomState();
    const codeVerifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(wrong, {
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      state,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    const result = await browser.authorize(url, { username: USERNAME, password: PASSWORD, consent: 'allow' });
    await expect(
      client.authorizationCodeGrant(wrong, result.callback, { expectedState: state, pkceCodeVerifier: codeVerifier }),
    ).rejects.toMatchObject({ status: 401 });
  });
});
