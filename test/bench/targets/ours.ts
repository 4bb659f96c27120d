import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../support/servers.js';
import { expectStatus, jsonOf, type HttpClient } from '../http.js';
import type { Pinning } from '../pinning.js';
import { authorizationUrl, hiddenInput, runBrowserFlow, type PageAnswer } from './browser-flow.js';
import { startChildServer } from './child-server.js';
import { advertisedGrantTypes, REDIRECT_URI, type BenchClient, type BenchUser, type Target } from './target.js';

const MAIN = fileURLToPath(new URL('./ours-main.js', import.meta.url));
const LOGIN_FORM = /<form\b[^>]*\baction="\/authorize\/login"/i;
const CONSENT_FORM = /<form\b[^>]*\baction="\/authorize\/consent"/i;

/**
 * Our embedded server (SQLite log, synchronous=FULL: its defaults) on the server core, with the
 * bench's users seeded and its clients registered through dynamic registration behind an
 * initial access token, as an operator would.
 */
export async function startOurs(options: { pinning: Pinning; http: HttpClient; users: BenchUser[]; nodeFlags?: string[] }): Promise<Target> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-bench-'));
  const usersFile = path.join(dataDir, 'bench-users.json');
  fs.writeFileSync(usersFile, JSON.stringify(options.users), { mode: 0o600 });
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const initialAccessToken = randomBytes(24).toString('base64url');
  const child = await startChildServer<{ issuer: string }>(
    options.pinning,
    MAIN,
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: issuer,
      EVENT_STORE_URL: `sqlite:${path.join(dataDir, 'idp.db')}`,
      IDP_DATA_DIR: dataDir,
      IDP_DEMO: 'off',
      IDP_INITIAL_ACCESS_TOKEN: initialAccessToken,
      IDP_REGISTRATION_RATE: '1000000/minute',
      LOG_LEVEL: 'warn',
      BENCH_USERS_FILE: usersFile,
    },
    options.nodeFlags,
  );
  const stop = async () => {
    await child.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const http = options.http;
    const discovery = await http.request(`${issuer}/.well-known/openid-configuration`);
    expectStatus(discovery, 200, 'discovery');
    const grantTypes = advertisedGrantTypes(jsonOf(discovery));
    const algs = jsonOf<{ id_token_signing_alg_values_supported?: string[] }>(discovery).id_token_signing_alg_values_supported ?? [];
    const register = async (metadata: Record<string, unknown>): Promise<BenchClient> => {
      const response = await http.request(`${issuer}/register`, { json: metadata, headers: { authorization: `Bearer ${initialAccessToken}` } });
      expectStatus(response, 201, `registration of ${JSON.stringify(metadata)}`);
      const client = jsonOf<{ client_id: string; client_secret?: string }>(response);
      return { clientId: client.client_id, ...(client.client_secret !== undefined ? { clientSecret: client.client_secret } : {}) };
    };
    const refresh = grantTypes.has('refresh_token');
    const web = await register({
      client_name: 'bench web',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: refresh ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
      scope: refresh ? 'openid offline_access' : 'openid',
      // Its ID tokens signed ES256 where the discovery offers it (issue 12: "ES256 rather than RS256 where the client allows").
      ...(algs.includes('ES256') ? { id_token_signed_response_alg: 'ES256' } : {}),
    });
    const spa = await register({ client_name: 'bench spa', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
    const machine = grantTypes.has('client_credentials')
      ? await register({ client_name: 'bench machine', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' })
      : undefined;

    return {
      name: 'ours',
      issuer,
      pid: child.pid,
      tokenEndpoint: `${issuer}/token`,
      introspectionEndpoint: `${issuer}/introspect`,
      grantTypes,
      redirectUri: REDIRECT_URI,
      clients: { machine, web, spa },
      unavailable: (grantType) =>
        grantTypes.has(grantType) ? undefined : `${grantType} is not in our discovery's grant_types_supported yet`,
      authorize(http, jar, user, params) {
        const url = authorizationUrl(`${issuer}/authorize`, params);
        return runBrowserFlow(http, jar, url, params.state, (page, at): ReturnType<PageAnswer> => {
          const rid = hiddenInput(page.body, 'rid');
          if (rid === undefined) return undefined;
          if (LOGIN_FORM.test(page.body)) {
            return { url: new URL('/authorize/login', at), form: { rid, username: user.username, password: user.password } };
          }
          if (CONSENT_FORM.test(page.body)) return { url: new URL('/authorize/consent', at), form: { rid, decision: 'allow' } };
          return undefined;
        });
      },
      logs: child.logs,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
