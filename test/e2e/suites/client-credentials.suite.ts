import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * The client credentials grant (RFC 6749 §4.4) with resource indicators (RFC 8707), through
 * openid-client and, unmodified, oauth4webapi: a confidential client registered for nothing but
 * client_credentials (no redirect URI) gets an access token for itself, audience the resources it
 * named, no refresh token and no ID token.
 */
const options = () => ({ execute: [client.allowInsecureRequests] });

export function describeClientCredentials(server: () => IdpUnderTest): void {
  describe('client credentials (RFC 6749 §4.4)', () => {
    const registerMachine = (metadata: Record<string, unknown> = {}) =>
      client.dynamicClientRegistration(
        new URL(server().issuer),
        { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'profile', ...metadata },
        client.ClientSecretBasic(),
        options(),
      );

    const claimsOf = async (token: string) =>
      (
        await jwtVerify(token, createRemoteJWKSet(new URL(`${server().issuer}/jwks`)), {
          issuer: server().issuer,
          typ: 'at+jwt',
        })
      ).payload;

    it('issues an access token for the client itself: no redirect URI registered, no refresh or ID token', async () => {
      const config = await registerMachine();
      expect(config.clientMetadata().redirect_uris ?? []).toEqual([]);
      const tokens = await client.clientCredentialsGrant(config);
      expect(tokens.token_type).toBe('bearer');
      expect(tokens.refresh_token).toBeUndefined();
      expect(tokens.id_token).toBeUndefined();
      const claims = await claimsOf(tokens.access_token);
      const clientId = config.clientMetadata().client_id;
      // RFC 9068 §2.2: no user, so the subject is the client; the audience defaults to this issuer.
      expect(claims).toMatchObject({ sub: clientId, client_id: clientId, aud: server().issuer });
      expect(claims.auth_time).toBeUndefined();
      expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, client_id: clientId, sub: clientId });
    });

    it('sets aud from the resource parameters (RFC 8707) and refuses a malformed or unconfigured one with invalid_target', async () => {
      const config = await registerMachine();
      const params = new URLSearchParams([
        ['resource', 'https://api.example.test/orders'],
        ['resource', 'urn:example:inventory'],
      ]);
      const tokens = await client.clientCredentialsGrant(config, params);
      expect((await claimsOf(tokens.access_token)).aud).toEqual(['https://api.example.test/orders', 'urn:example:inventory']);
      for (const resource of ['https://api.example.test/#fragment', 'https://payments.example.test/api', '/relative']) {
        // Malformed, or an audience this server was not configured for: never a token for it.
        await expect(client.clientCredentialsGrant(config, { resource })).rejects.toMatchObject({ error: 'invalid_target' });
      }
      // A token for another audience is no token for userinfo (RFC 8707 §2, RFC 6750 §3.1).
      const userinfo = await fetch(`${server().issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(userinfo.status).toBe(401);
    });

    it('refuses user scopes without a user (invalid_scope) and API scopes at open registration', async () => {
      const config = await registerMachine({ scope: 'profile email' });
      // No scope asked: the registered scopes that make sense without a user, here none.
      expect((await client.clientCredentialsGrant(config)).scope ?? '').toBe('');
      for (const scope of ['profile', 'openid', 'offline_access', 'orders:read']) {
        await expect(client.clientCredentialsGrant(config, { scope })).rejects.toMatchObject({ error: 'invalid_scope' });
      }
      await expect(registerMachine({ scope: 'orders:read' })).rejects.toMatchObject({ error: 'invalid_client_metadata' });
    });

    it('refuses a client that did not register the grant (unauthorized_client) and a wrong secret (401 invalid_client)', async () => {
      const codeClient = await client.dynamicClientRegistration(
        new URL(server().issuer),
        { redirect_uris: ['https://rp.example.test/cb'], scope: 'openid profile' },
        client.ClientSecretBasic(),
        options(),
      );
      await expect(client.clientCredentialsGrant(codeClient)).rejects.toMatchObject({ error: 'unauthorized_client' });
      const config = await registerMachine();
      const response = await fetch(`${server().issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${config.clientMetadata().client_id}:wrong-secret`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect(await response.json()).toMatchObject({ error: 'invalid_client' });
    });

    it('works unmodified with oauth4webapi, and a revoked token is inactive at the next introspection', async () => {
      const config = await registerMachine();
      const { client_id, client_secret } = config.clientMetadata();
      const issuer = new URL(server().issuer);
      const insecure = { [oauth.allowInsecureRequests]: true } as const;
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
      const rp: oauth.Client = { client_id };
      const auth = oauth.ClientSecretBasic(String(client_secret));
      const response = await oauth.clientCredentialsGrantRequest(as, rp, auth, new URLSearchParams({ resource: 'https://api.example.test/' }), insecure);
      const tokens = await oauth.processClientCredentialsResponse(as, rp, response);
      expect(tokens.refresh_token).toBeUndefined();
      expect((await claimsOf(tokens.access_token)).aud).toBe('https://api.example.test/');
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, rp, auth, tokens.access_token, insecure));
      const answer = await oauth.processIntrospectionResponse(as, rp, await oauth.introspectionRequest(as, rp, auth, tokens.access_token, insecure));
      expect(answer.active).toBe(false);
    });
  });
}
