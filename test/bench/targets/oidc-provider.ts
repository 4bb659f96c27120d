import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../support/servers.js';
import { expectStatus, jsonOf, type HttpClient } from '../http.js';
import type { Pinning } from '../pinning.js';
import { authorizationUrl, runBrowserFlow } from './browser-flow.js';
import { startChildServer } from './child-server.js';
import { advertisedGrantTypes, REDIRECT_URI, type BenchUser, type Target } from './target.js';

const MAIN = fileURLToPath(new URL('./oidc-provider-main.js', import.meta.url));
const LOGIN_FORM = /<form\b[^>]*\baction="(\/interaction\/[A-Za-z0-9_-]+\/login)"/i;

/** node oidc-provider (see oidc-provider-main.ts) on the server core, its clients configured statically. */
export async function startOidcProvider(options: { pinning: Pinning; http: HttpClient; users: BenchUser[] }): Promise<Target> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oidc-provider-bench-'));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const secret = () => randomBytes(32).toString('base64url');
  const clients = {
    machine: { clientId: 'bench-machine', clientSecret: secret() },
    web: { clientId: 'bench-web', clientSecret: secret() },
    spa: { clientId: 'bench-spa' },
  };
  const fixtureFile = path.join(dir, 'fixture.json');
  fs.writeFileSync(fixtureFile, JSON.stringify({ issuer, port, redirectUri: REDIRECT_URI, clients, users: options.users }), { mode: 0o600 });
  const child = await startChildServer<{ issuer: string }>(options.pinning, MAIN, { BENCH_FIXTURE_FILE: fixtureFile, NODE_ENV: 'production' });
  const stop = async () => {
    await child.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const discoveryResponse = await options.http.request(`${issuer}/.well-known/openid-configuration`);
    expectStatus(discoveryResponse, 200, 'oidc-provider discovery');
    const discovery = jsonOf<{ authorization_endpoint: string; token_endpoint: string; introspection_endpoint: string; grant_types_supported?: string[] }>(
      discoveryResponse,
    );
    const grantTypes = advertisedGrantTypes(discovery);
    return {
      name: 'oidc-provider',
      issuer,
      pids: () => [child.pid],
      tokenEndpoint: discovery.token_endpoint,
      introspectionEndpoint: discovery.introspection_endpoint,
      grantTypes,
      redirectUri: REDIRECT_URI,
      clients,
      unavailable: (grantType) => (grantTypes.has(grantType) ? undefined : `oidc-provider does not advertise ${grantType}`),
      authorize(http, jar, user, params) {
        const url = authorizationUrl(discovery.authorization_endpoint, params);
        return runBrowserFlow(http, jar, url, params.state, (page, at) => {
          const action = LOGIN_FORM.exec(page.body)?.[1];
          return action === undefined ? undefined : { url: new URL(action, at), form: { login: user.username, password: user.password } };
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
