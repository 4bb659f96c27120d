import { createHash, randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { Browser } from './browser.js';
import { dotted, encodings, jwt, refreshToken, storedSha256, text, type Needle } from './secret-scan.js';

/**
 * A broad run of flows against a running IdP, over HTTP only, for the secrets scan: client
 * registration (four kinds), logins that fail and succeed, code (confidential) and code + PKCE
 * (public), refresh with rotation and a reuse, client credentials, the password grant (right and
 * wrong), introspection, revocation, userinfo, RP-initiated logout, client secret rotation, and
 * the error paths (wrong verifier, replayed code, wrong client secret). It collects every secret
 * it sent or received as needles, and values known to be at rest as controls.
 */
export interface FlowsResult {
  needles: Needle[];
  /** Known to be in the log: a scan that does not find them proves nothing. */
  controls: { label: string; value: string }[];
  /** Subjects of the users that logged in (their password hashes are needles once read). */
  subs: string[];
}

export interface FlowsTarget {
  issuer: string;
  initialAccessToken: string;
  user: { username: string; password: string };
}

const REDIRECT_URI = `https://rp-${randomBytes(4).toString('hex')}.example.test/callback`;
const POST_LOGOUT = REDIRECT_URI.replace('/callback', '/signed-out');
const SCOPE = 'openid profile offline_access';
const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');
const options = (initialAccessToken: string) => ({ execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks], initialAccessToken });

export async function runFlowsForSecretsScan(target: FlowsTarget): Promise<FlowsResult> {
  const issuer = new URL(target.issuer);
  const { username, password } = target.user;
  const needles: Needle[] = [];
  const controls: FlowsResult['controls'] = [{ label: 'redirect URI', value: REDIRECT_URI }];
  const subs = new Set<string>();
  needles.push(...encodings('password', password), text('initial access token', target.initialAccessToken), text('username', username, 'personal'));

  const register = async (label: string, metadata: Record<string, unknown>, auth: client.ClientAuth) => {
    const config = await client.dynamicClientRegistration(issuer, { client_name: `scan ${label}`, ...metadata }, auth, options(target.initialAccessToken));
    const secret = config.clientMetadata().client_secret;
    if (typeof secret === 'string') needles.push(text(`${label} client secret`, secret), storedSha256(`${label} client secret`, sha256Hex(secret)));
    const rat = config.clientMetadata().registration_access_token;
    if (typeof rat === 'string') needles.push(text(`${label} registration access token`, rat));
    controls.push({ label: `${label} client_id`, value: config.clientMetadata().client_id });
    return config;
  };
  const confidential = await register(
    'confidential',
    { redirect_uris: [REDIRECT_URI], post_logout_redirect_uris: [POST_LOGOUT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_basic', scope: SCOPE },
    client.ClientSecretBasic(),
  );
  const publicClient = await register('public', { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', scope: SCOPE }, client.None());
  const passwordClient = await register(
    'password-grant',
    { redirect_uris: [], response_types: [], grant_types: ['password', 'refresh_token'], token_endpoint_auth_method: 'client_secret_post', scope: SCOPE },
    client.ClientSecretPost(),
  );
  const machine = await register(
    'machine',
    { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], scope: 'orders:read' },
    client.ClientSecretBasic(),
  );

  // Client secret rotation (RFC 7592 PUT with the extension member), then the new secret in use.
  const confidentialId = confidential.clientMetadata().client_id;
  const rotated = (await (
    await fetch(confidential.clientMetadata().registration_client_uri as string, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${confidential.clientMetadata().registration_access_token as string}` },
      body: JSON.stringify({
        ...withoutServerFields(confidential.clientMetadata()),
        client_id: confidentialId,
        client_secret: confidential.clientMetadata().client_secret,
        rotate_client_secret: true,
      }),
    })
  ).json()) as { client_secret?: string };
  if (typeof rotated.client_secret !== 'string') throw new Error(`no rotated client_secret: ${JSON.stringify(rotated)}`);
  needles.push(text('rotated client secret', rotated.client_secret), storedSha256('rotated client secret', sha256Hex(rotated.client_secret)));
  const rotatedConfig = new client.Configuration(confidential.serverMetadata(), confidentialId, rotated.client_secret, client.ClientSecretBasic());
  client.allowInsecureRequests(rotatedConfig);

  const browser = new Browser();
  // A failed login first: the attempted password must not be kept either.
  const wrongPassword = `Wrong-${randomBytes(18).toString('base64url')}`;
  needles.push(...encodings('wrong password', wrongPassword));
  const loginPage = await browser.get(client.buildAuthorizationUrl(rotatedConfig, { redirect_uri: REDIRECT_URI, scope: SCOPE, state: client.randomState() }));
  const rid = /name="rid" value="([^"]+)"/.exec(loginPage.body)?.[1] ?? '';
  const failed = await browser.postForm(new URL('/authorize/login', issuer), { rid, username, password: wrongPassword });
  if (failed.status !== 401) throw new Error(`the failed login answered ${failed.status}`);

  const codeFlow = async (config: client.Configuration, pkce: boolean, verifier?: string) => {
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = pkce ? client.randomPKCECodeVerifier() : undefined;
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      state,
      nonce,
      prompt: 'consent',
      ...(codeVerifier ? { code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256' } : {}),
    });
    const { callback } = await browser.authorize(url, { username, password, consent: 'allow' });
    const code = callback.searchParams.get('code');
    if (!code) throw new Error(`no code in ${callback.href}`);
    needles.push(...dotted(`${pkce ? 'public' : 'confidential'} code`, code));
    controls.push({ label: `grant id of a ${pkce ? 'public' : 'confidential'} code`, value: code.slice(0, code.indexOf('.')) });
    if (codeVerifier) needles.push(text('PKCE code_verifier', codeVerifier));
    const redeem = () =>
      client.authorizationCodeGrant(config, callback, {
        expectedState: state,
        expectedNonce: nonce,
        ...(codeVerifier ? { pkceCodeVerifier: verifier ?? codeVerifier } : {}),
      });
    return { code, redeem, callback };
  };
  const collectTokens = (label: string, tokens: client.TokenEndpointResponse) => {
    needles.push(...jwt(`${label} access token`, tokens.access_token));
    if (tokens.id_token) needles.push(...jwt(`${label} ID token`, tokens.id_token));
    if (tokens.refresh_token) needles.push(...refreshToken(`${label} refresh token`, tokens.refresh_token));
  };

  // Code flow, confidential client (with the rotated secret), with a refresh token.
  const first = await codeFlow(rotatedConfig, false);
  const firstTokens = await first.redeem();
  collectTokens('confidential', firstTokens);
  const session = browser.cookie('idp_session');
  if (!session) throw new Error('no idp_session cookie after login');
  needles.push(...dotted('session cookie', decodeURIComponent(session.value)));
  const sub = firstTokens.claims()!.sub;
  subs.add(sub);
  const userinfo = await client.fetchUserInfo(rotatedConfig, firstTokens.access_token, sub);
  if (typeof userinfo.name === 'string') needles.push(text('name', userinfo.name, 'personal'));

  // Refresh: rotation, then a reuse of the old token (detected, the lineage revoked).
  const refreshed = await client.refreshTokenGrant(rotatedConfig, firstTokens.refresh_token!);
  collectTokens('refreshed', refreshed);
  await client.refreshTokenGrant(rotatedConfig, firstTokens.refresh_token!).then(
    () => Promise.reject(new Error('a reused refresh token was accepted')),
    () => undefined,
  );

  // Code + PKCE, public client; then a wrong verifier, a replayed code, a wrong client secret.
  const second = await codeFlow(publicClient, true);
  collectTokens('public', await second.redeem());
  const wrongVerifier = client.randomPKCECodeVerifier();
  needles.push(text('wrong PKCE code_verifier', wrongVerifier));
  const third = await codeFlow(publicClient, true, wrongVerifier);
  await third.redeem().then(() => Promise.reject(new Error('a wrong code_verifier was accepted')), () => undefined);
  await first.redeem().then(() => Promise.reject(new Error('a replayed code was accepted')), () => undefined);
  const wrongSecret = randomBytes(32).toString('base64url');
  needles.push(text('wrong client secret', wrongSecret));
  const fourth = await codeFlow(rotatedConfig, false);
  const oldSecret = confidential.clientMetadata().client_secret as string;
  for (const secret of [wrongSecret, oldSecret]) {
    const refused = await fetch(new URL('/token', issuer), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(confidentialId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: fourth.code, redirect_uri: REDIRECT_URI }),
    });
    if (refused.status !== 401) throw new Error(`a wrong or rotated-out client secret answered ${refused.status}`);
  }

  // Client credentials.
  collectTokens('client credentials', await client.clientCredentialsGrant(machine, { scope: 'orders:read' }));

  // Password grant: right and wrong.
  const viaPassword = await client.genericGrantRequest(passwordClient, 'password', { username, password, scope: SCOPE });
  collectTokens('password grant', viaPassword);
  const wrongGrantPassword = `Wrong2-${randomBytes(18).toString('base64url')}`;
  needles.push(...encodings('wrong password (password grant)', wrongGrantPassword));
  await client
    .genericGrantRequest(passwordClient, 'password', { username, password: wrongGrantPassword, scope: 'openid' })
    .then(() => Promise.reject(new Error('a wrong password was accepted')), () => undefined);

  // Introspection and revocation (RFC 7662, RFC 7009).
  const introspected = await client.tokenIntrospection(passwordClient, viaPassword.access_token);
  if (!introspected.active) throw new Error('introspection: the token is not active');
  await client.tokenIntrospection(passwordClient, viaPassword.refresh_token!);
  await client.tokenRevocation(passwordClient, viaPassword.refresh_token!);
  if ((await client.tokenIntrospection(passwordClient, viaPassword.access_token)).active) throw new Error('revocation did not revoke');

  // RP-initiated logout with the ID token of the refreshed session.
  const logout = await browser.get(client.buildEndSessionUrl(rotatedConfig, { id_token_hint: refreshed.id_token!, post_logout_redirect_uri: POST_LOGOUT, state: 'bye' }));
  if (logout.status !== 303) throw new Error(`logout answered ${logout.status}: ${logout.body.slice(0, 500)}`);

  return { needles, controls, subs: [...subs] };
}

/** The RFC 7592 update body: the client's metadata without what only the server sets. */
function withoutServerFields(metadata: Partial<client.ClientMetadata>): Record<string, unknown> {
  const {
    client_secret: _secret,
    client_secret_expires_at: _expires,
    client_id_issued_at: _issued,
    registration_access_token: _rat,
    registration_client_uri: _uri,
    ...rest
  } = metadata as Record<string, unknown>;
  return rest;
}
