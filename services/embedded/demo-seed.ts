import { createHash, randomBytes } from 'node:crypto';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { RegisterUser } from '../../contracts/messages/authn.js';
import type { ProfileClaims } from '../../contracts/profile-claims.js';
import { RegisterClient } from '../../contracts/messages/client-registry.js';
import type { Bus } from '../../infra/bus/port.js';
import { call } from '../../infra/bus/typed.js';
import type { EmbeddedConfig } from './config.js';

export const DEMO_CLIENT_ID = 'demo';

/** The demo user's claims (OIDC Core §5.1) unless IDP_DEMO_CLAIMS gives others. */
export const DEMO_USER_CLAIMS = {
  name: 'Demo User',
  given_name: 'Demo',
  family_name: 'User',
  email: 'demo@example.com',
  email_verified: true,
  locale: 'en',
  address: {
    formatted: '1 Example Street\n10115 Berlin\nGermany',
    street_address: '1 Example Street',
    locality: 'Berlin',
    postal_code: '10115',
    country: 'DE',
  },
} satisfies ProfileClaims;

export interface DemoInfo {
  username: string;
  clientId: string;
  redirectUri: string;
  /** An authorization URL to open in a browser (PKCE with a throw-away verifier). */
  authorizeUrl: string;
  codeVerifier: string;
}

/**
 * A demo user and a demo public client, registered through the owning services like any other
 * (so they are ordinary events). Registering again at the next start writes nothing.
 */
export async function seedDemo(
  bus: Bus,
  config: EmbeddedConfig,
  demo: { username: string; password: string; claims?: ProfileClaims | undefined },
): Promise<DemoInfo> {
  const ctx: RequestContext = {
    tenant: config.tenant,
    correlationId: `demo-seed-${Date.now()}`,
    causationId: null,
    actor: { kind: 'system', id: 'demo-seed' },
  };
  await call(bus, RegisterUser, { ctx, username: demo.username, password: demo.password, ...(demo.claims ?? DEMO_USER_CLAIMS) });
  const redirectUri = `${config.issuer}/demo/callback`;
  await call(bus, RegisterClient, {
    ctx,
    clientId: DEMO_CLIENT_ID,
    metadata: {
      client_name: 'Demo application',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      scope: 'openid profile email address',
    },
  });
  const codeVerifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${config.issuer}/authorize`);
  authorize.search = new URLSearchParams({
    client_id: DEMO_CLIENT_ID,
    response_type: 'code',
    scope: 'openid profile email address',
    redirect_uri: redirectUri,
    state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return { username: demo.username, clientId: DEMO_CLIENT_ID, redirectUri, authorizeUrl: authorize.href, codeVerifier };
}
