import * as client from 'openid-client';
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

export function describeClientManagement(server: () => IdpUnderTest, _user: { username: string; password: string }): void {
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
      expect(config.clientMetadata()).toMatchObject({ refresh_token_reuse_grace_seconds: 15, scope: 'openid profile email offline_access' });

      const plain = await register({ redirect_uris: [REDIRECT_URI] });
      expect(plain.status).toBe(201);
      expect(plain.body).toMatchObject({ refresh_token_reuse_grace_seconds: 0, scope: 'openid profile email offline_access' });
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
      expect(metadata.scopes_supported).toEqual(['openid', 'profile', 'email', 'offline_access']);
    });
  });
}
