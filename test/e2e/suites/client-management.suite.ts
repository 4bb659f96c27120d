import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { RevokeClientTokens } from '../../../contracts/messages/client-registry.js';
import { NatsBus } from '../../../infra/bus/nats.js';
import { call } from '../../../infra/bus/typed.js';
import { Browser } from '../../support/browser.js';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * The client lifecycle (RFC 7591 metadata, RFC 7592 management, secret rotation, client
 * watermarks), run inside the authorization-code suite of each topology (same deployment, same
 * user). Registration goes through openid-client; RFC 7592, which no client library offers,
 * through plain fetch.
 */
const REDIRECT_URI = 'https://rp.example.test/clients-cb';
const options = () => ({ execute: [client.allowInsecureRequests] });

interface WireResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function send(url: string, init: RequestInit): Promise<WireResponse> {
  const response = await fetch(url, { redirect: 'manual', ...init });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/**
 * `adminBus`: the deployment's bus is reachable from the test (distributed: NATS), so the
 * administrator's RevokeClientTokens message is sent as the admin CLI will. The embedded bus is
 * in-process only; there the same message is covered by test/integration/client-watermark.test.ts.
 */
export function describeClientManagement(
  server: () => IdpUnderTest,
  user: { username: string; password: string },
  { adminBus }: { adminBus: boolean },
): void {
  describe('client registration metadata (RFC 7591, client.registered v2)', () => {
    const register = (metadata: Record<string, unknown>) =>
      send(`${server().issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(metadata),
      });

    it('echoes refresh_token_reuse_grace_seconds (0 by default) and offers offline_access in the default scope', async () => {
      const config = await client.dynamicClientRegistration(
        new URL(server().issuer),
        { redirect_uris: [REDIRECT_URI], refresh_token_reuse_grace_seconds: 15 },
        client.ClientSecretBasic(),
        options(),
      );
      expect(config.clientMetadata()).toMatchObject({ refresh_token_reuse_grace_seconds: 15, scope: 'openid profile email address phone offline_access' });

      const plain = await register({ redirect_uris: [REDIRECT_URI] });
      expect(plain.status).toBe(201);
      expect(plain.body).toMatchObject({ refresh_token_reuse_grace_seconds: 0, scope: 'openid profile email address phone offline_access' });
    });

    it.each([
      ['a grace above 60 seconds', { redirect_uris: [REDIRECT_URI], refresh_token_reuse_grace_seconds: 61 }],
      ['a fractional grace', { redirect_uris: [REDIRECT_URI], refresh_token_reuse_grace_seconds: 0.5 }],
      ['the password grant without the initial access token', { grant_types: ['password'] }],
      ['client_credentials for a public client', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }],
    ])('refuses %s with 400 invalid_client_metadata', async (_label, metadata) => {
      const response = await register(metadata);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: 'invalid_client_metadata' });
      expect(response.headers.get('cache-control')).toBe('no-store');
    });

    it('a client with authorization_code still needs a redirect URI', async () => {
      const response = await register({ grant_types: ['authorization_code'] });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: 'invalid_redirect_uri' });
    });

    it('discovery lists offline_access among the supported scopes', async () => {
      const metadata = (await (await fetch(`${server().issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(metadata.scopes_supported).toEqual(['openid', 'profile', 'email', 'address', 'phone', 'offline_access']);
    });
  });

  describe('client configuration endpoint (RFC 7592)', () => {
    interface Registered {
      body: Record<string, unknown>;
      clientId: string;
      token: string;
      uri: string;
    }

    async function registered(metadata: Record<string, unknown> = {}): Promise<Registered> {
      const response = await send(`${server().issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT_URI], scope: 'openid profile', client_name: 'managed', ...metadata }),
      });
      expect(response.status).toBe(201);
      return {
        body: response.body,
        clientId: response.body.client_id as string,
        token: response.body.registration_access_token as string,
        uri: response.body.registration_client_uri as string,
      };
    }

    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const read = (c: Registered, token = c.token) => send(c.uri, { headers: bearer(token) });
    const put = (c: Registered, body: Record<string, unknown>, token = c.token) =>
      send(c.uri, { method: 'PUT', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const remove = (c: Registered, token = c.token) => send(c.uri, { method: 'DELETE', headers: bearer(token) });

    /** openid-client configured for a client of these tests, with the given secret. */
    const configFor = async (clientId: string, clientSecret: string) =>
      client.discovery(new URL(server().issuer), clientId, { client_secret: clientSecret }, client.ClientSecretBasic(clientSecret), options());

    async function authorizationCallback(config: client.Configuration): Promise<{ callback: URL; state: string }> {
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile', state });
      const { callback } = await new Browser().authorize(url, { ...user, consent: 'allow' });
      return { callback, state };
    }

    async function accessToken(config: client.Configuration): Promise<string> {
      const { callback, state } = await authorizationCallback(config);
      return (await client.authorizationCodeGrant(config, callback, { expectedState: state })).access_token;
    }

    const userinfo = async (token: string) => (await fetch(`${server().issuer}/userinfo`, { headers: bearer(token) })).status;

    /** A token request with client_secret_basic and a code that does not exist: client authentication decides. */
    const tokenWithSecret = (clientId: string, clientSecret: string) =>
      send(`${server().issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: 'no-such-code', redirect_uri: REDIRECT_URI }).toString(),
      });

    it('register, read, update and delete a client (RFC 7592 §2.1-2.3)', async () => {
      const c = await registered({ refresh_token_reuse_grace_seconds: 10 });
      expect(c.token).toEqual(expect.any(String));
      expect(c.uri).toBe(`${server().issuer}/register/${c.clientId}`);

      const got = await read(c);
      expect(got.status).toBe(200);
      expect(got.headers.get('cache-control')).toBe('no-store');
      const { client_secret: _secret, client_secret_expires_at: _expires, ...withoutSecret } = c.body;
      expect(got.body).toEqual(withoutSecret); // everything but the secret, which only its hash keeps

      const updated = await put(c, { ...got.body, client_name: 'renamed', redirect_uris: [REDIRECT_URI, `${REDIRECT_URI}2`] });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ client_id: c.clientId, client_name: 'renamed', redirect_uris: [REDIRECT_URI, `${REDIRECT_URI}2`], refresh_token_reuse_grace_seconds: 10 });
      expect(updated.body.client_secret).toBeUndefined();
      expect((await read(c)).body).toMatchObject({ client_name: 'renamed' });

      // RFC 7592 §2.2: what the update leaves out takes its default.
      const defaults = await put(c, { client_id: c.clientId, redirect_uris: [REDIRECT_URI] });
      expect(defaults.body).toMatchObject({ scope: 'openid profile email address phone offline_access', refresh_token_reuse_grace_seconds: 0 });
      expect(defaults.body.client_name).toBeUndefined();

      // The client still authenticates with its secret (the update did not change it).
      expect((await tokenWithSecret(c.clientId, c.body.client_secret as string)).body).toMatchObject({ error: 'invalid_grant' });

      const deleted = await remove(c);
      expect(deleted.status).toBe(204);
      for (const after of [await read(c), await remove(c), await put(c, { client_id: c.clientId, redirect_uris: [REDIRECT_URI] })]) {
        expect(after.status).toBe(401);
        expect(after.body).toMatchObject({ error: 'invalid_token' });
      }
      // A deleted client cannot authenticate any more.
      const refused = await tokenWithSecret(c.clientId, c.body.client_secret as string);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: 'invalid_client' });
    });

    it('a missing or wrong token, another client\'s token and an unknown client are all 401 invalid_token, and change nothing', async () => {
      const c = await registered();
      const other = await registered();
      const unknown: Registered = { ...c, clientId: 'no-such-client', uri: `${server().issuer}/register/no-such-client` };

      const none = await send(c.uri, {});
      expect(none.status).toBe(401);
      expect(none.body).toEqual({});
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(none.headers.get('www-authenticate')).not.toMatch(/error=/);

      const attempts = [
        await read(c, randomBytes(32).toString('base64url')),
        await read(c, other.token),
        await read(unknown),
        await put(c, { client_id: c.clientId, redirect_uris: ['https://attacker.example/cb'] }, other.token),
        await remove(c, other.token),
        await remove(unknown),
      ];
      const bodies = new Set(attempts.map((a) => JSON.stringify(a.body)));
      expect(bodies.size).toBe(1); // nothing tells an unknown client from a wrong token
      for (const attempt of attempts) {
        expect(attempt.status).toBe(401);
        expect(attempt.body).toMatchObject({ error: 'invalid_token' });
        expect(attempt.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
      }
      expect((await read(c)).body).toMatchObject({ redirect_uris: [REDIRECT_URI], client_name: 'managed' });
    });

    it('an update naming another client_id, a wrong client_secret or bad metadata is 400 and changes nothing', async () => {
      const c = await registered();
      const other = await registered();
      for (const body of [
        { client_id: other.clientId, redirect_uris: [REDIRECT_URI] },
        { redirect_uris: [REDIRECT_URI] },
        { client_id: c.clientId, redirect_uris: [REDIRECT_URI], client_secret: 'not-the-secret' },
        { client_id: c.clientId, redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' },
        { client_id: c.clientId, grant_types: ['password'] },
      ]) {
        const response = await put(c, body);
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ error: 'invalid_client_metadata' });
      }
      const redirect = await put(c, { client_id: c.clientId, redirect_uris: ['http://attacker.example/cb'] });
      expect(redirect.body).toMatchObject({ error: 'invalid_redirect_uri' });
      expect((await read(c)).body).toMatchObject({ redirect_uris: [REDIRECT_URI], client_name: 'managed', scope: 'openid profile' });
    });

    it('secret rotation: the old secret is refused at /token with 401 invalid_client at once, the new one works', async () => {
      const c = await registered();
      const oldSecret = c.body.client_secret as string;
      const oldConfig = await configFor(c.clientId, oldSecret);
      const { callback, state } = await authorizationCallback(oldConfig);

      const rotated = await put(c, { ...(await read(c)).body, client_secret: oldSecret, rotate_client_secret: true });
      expect(rotated.status).toBe(200);
      const newSecret = rotated.body.client_secret as string;
      expect(newSecret).toEqual(expect.any(String));
      expect(newSecret).not.toBe(oldSecret);
      expect(rotated.body.client_secret_expires_at).toBe(0);

      // openid-client reports the challenge of the 401; the body says invalid_client.
      await expect(client.authorizationCodeGrant(oldConfig, callback, { expectedState: state })).rejects.toMatchObject({ status: 401 });
      const refused = await tokenWithSecret(c.clientId, oldSecret);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: 'invalid_client' });
      const tokens = await client.authorizationCodeGrant(await configFor(c.clientId, newSecret), callback, { expectedState: state });
      expect(await userinfo(tokens.access_token)).toBe(200);

      // Rotating again with the now old secret in the request is refused: it is not the current one.
      const stale = await put(c, { client_id: c.clientId, redirect_uris: [REDIRECT_URI], client_secret: oldSecret, rotate_client_secret: true });
      expect(stale.status).toBe(400);
    });

    it('concurrent double submits: two deletions, one 204 and one 401; two rotations, exactly one secret works', async () => {
      const c = await registered();
      const deletions = await Promise.all([remove(c), remove(c)]);
      expect(deletions.map((d) => d.status).sort()).toEqual([204, 401]);

      const r = await registered();
      const body = { client_id: r.clientId, redirect_uris: [REDIRECT_URI], scope: 'openid profile', client_name: 'managed', rotate_client_secret: true };
      const rotations = await Promise.all([put(r, body), put(r, body)]);
      expect(rotations.map((x) => x.status)).toEqual([200, 200]);
      const answers = await Promise.all(rotations.map((x) => tokenWithSecret(r.clientId, x.body.client_secret as string)));
      expect(answers.map((a) => a.status).sort()).toEqual([400, 401]); // invalid_grant (authenticated) and invalid_client
      expect((await tokenWithSecret(r.clientId, r.body.client_secret as string)).status).toBe(401);
    });

    it('a deleted client\'s tokens are dead at the very next introspection and userinfo call', async () => {
      const c = await registered();
      const config = await configFor(c.clientId, c.body.client_secret as string);
      const token = await accessToken(config);
      // Another client that may introspect, to ask about the dead client's token.
      const observer = await registered();
      const observerConfig = await configFor(observer.clientId, observer.body.client_secret as string);
      expect(await userinfo(token)).toBe(200);
      expect(await client.tokenIntrospection(config, token)).toMatchObject({ active: true });

      expect((await remove(c)).status).toBe(204);
      expect(await userinfo(token)).toBe(401);
      await expect(client.tokenIntrospection(config, token)).rejects.toMatchObject({ status: 401 });
      expect(await client.tokenIntrospection(observerConfig, token)).toEqual({ active: false });
    });

    if (!adminBus) return;
    it('revoking all tokens of a client (RevokeClientTokens) makes a live token inactive at the very next call; later tokens work', async () => {
      const natsUrl = server().natsUrl!;
      const c = await registered();
      const config = await configFor(c.clientId, c.body.client_secret as string);
      const token = await accessToken(config);
      expect(await userinfo(token)).toBe(200);
      const revoke = async () => {
        const ctx = { tenant: 'default', correlationId: `admin-${randomBytes(4).toString('hex')}`, causationId: null, actor: { kind: 'system' as const, id: 'admin-test' } };
        const bus = await NatsBus.connect(natsUrl, { name: 'test-admin', connection: server().natsAs?.('admin') ?? {} });
        try {
          return (await call(bus, RevokeClientTokens, { ctx, clientId: c.clientId })).revokedAt;
        } finally {
          await bus.close();
        }
      };
      const revokedAt = await revoke();

      expect(await client.tokenIntrospection(config, token)).toEqual({ active: false });
      expect(await userinfo(token)).toBe(401);

      // The watermark has second precision: a token issued in a later second is not under it.
      const nextSecond = (Math.floor(Date.parse(revokedAt) / 1000) + 1) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextSecond - Date.now() + 20)));
      const later = await accessToken(config);
      expect(await userinfo(later)).toBe(200);
      expect(await client.tokenIntrospection(config, later)).toMatchObject({ active: true });
    });
  });
}
