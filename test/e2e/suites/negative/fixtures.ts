import * as client from 'openid-client';
import type { IdpUnderTest } from '../../../support/idp-under-test.js';

/**
 * The clients the negative table refuses things to, registered once per deployment with the
 * initial access token (the password grant and API scopes need it). Cases that spend something
 * (a refresh lineage, a token to revoke) make their own in `prepare`.
 */
export interface Fixtures {
  issuer: string;
  initialAccessToken: string;
  user: { username: string; password: string };
  /** Confidential, `client_secret_basic`, client credentials only; scopes `profile orders:read`. */
  machine: client.Configuration;
  /** Confidential, `client_secret_post`, client credentials only. */
  postMachine: client.Configuration;
  /** Public (`none`): authorization code and refresh token. */
  spa: client.Configuration;
  /** Confidential, authorization code only. */
  codeOnly: client.Configuration;
  /** Confidential, password and refresh token, a refresh grace window of 1 s. */
  app: client.Configuration;
  /** Another client like `app`. */
  otherApp: client.Configuration;
}

export const REDIRECT_URI = 'https://rp.example.test/negative-cb';
/** The app's refresh grace window (RFC 9700 §4.14.2 leeway), in seconds. */
export const GRACE_SECONDS = 1;
const APP_SCOPE = 'openid offline_access profile';

export async function registerFixtures(
  server: IdpUnderTest,
  initialAccessToken: string,
  user: { username: string; password: string },
): Promise<Fixtures> {
  const register = (metadata: Record<string, unknown>, auth: client.ClientAuth = client.ClientSecretBasic()) =>
    client.dynamicClientRegistration(new URL(server.issuer), { client_name: 'negative table', ...metadata }, auth, {
      execute: [client.allowInsecureRequests],
      initialAccessToken,
    });
  const machineMetadata = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
  const appMetadata = {
    grant_types: ['password', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
    scope: APP_SCOPE,
    refresh_token_reuse_grace_seconds: GRACE_SECONDS,
  };
  const [machine, postMachine, spa, codeOnly, app, otherApp] = await Promise.all([
    register({ ...machineMetadata, scope: 'profile orders:read' }),
    register({ ...machineMetadata, scope: 'orders:read', token_endpoint_auth_method: 'client_secret_post' }, client.ClientSecretPost()),
    register(
      { grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' },
      client.None(),
    ),
    register({ grant_types: ['authorization_code'], redirect_uris: [REDIRECT_URI], scope: 'openid profile' }),
    register(appMetadata),
    register(appMetadata),
  ]);
  return { issuer: server.issuer, initialAccessToken, user, machine: machine!, postMachine: postMachine!, spa: spa!, codeOnly: codeOnly!, app: app!, otherApp: otherApp! };
}

export const clientIdOf = (config: client.Configuration): string => config.clientMetadata().client_id;

export function secretOf(config: client.Configuration): string {
  const secret = config.clientMetadata().client_secret;
  if (typeof secret !== 'string') throw new Error('the registration response carried no client_secret');
  return secret;
}

/** A fresh access token of `machine` (client credentials). */
export async function machineToken(fx: Fixtures): Promise<string> {
  return (await client.clientCredentialsGrant(fx.machine)).access_token;
}

/** A fresh refresh lineage of the given password client: its first access and refresh token. */
export async function passwordLineage(fx: Fixtures, config: client.Configuration): Promise<{ access: string; refresh: string }> {
  const tokens = await client.genericGrantRequest(config, 'password', { ...fx.user, scope: APP_SCOPE });
  if (!tokens.refresh_token) throw new Error('the password grant with offline_access gave no refresh token');
  return { access: tokens.access_token, refresh: tokens.refresh_token };
}
