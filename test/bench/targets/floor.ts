import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../support/servers.js';
import type { HttpClient } from '../http.js';
import type { Pinning } from '../pinning.js';
import { authorizationUrl, runBrowserFlow } from './browser-flow.js';
import { startChildServer } from './child-server.js';
import { REDIRECT_URI, type BenchClient, type Target } from './target.js';

const MAIN = fileURLToPath(new URL('./floor-main.js', import.meta.url));

/** The scenarios the floor serves (floor-main.ts): what it is there to bound. */
export const FLOOR_SCENARIOS = new Set(['client-credentials', 'introspection', 'refresh', 'client-credentials-open-loop']);

/**
 * The floor (floor-main.ts) on the server core, as a bench target. Its log is `floor.db` in
 * `options.dir` when given (kept afterwards), else in a temporary directory removed at stop.
 */
export async function startFloor(options: { pinning: Pinning; http: HttpClient; dir?: string }): Promise<Target> {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'idp-bench-floor-'));
  const port = await freePort();
  const child = await startChildServer<{ issuer: string; clients: Target['clients'] & { machine: BenchClient } }>(options.pinning, MAIN, {
    PORT: String(port),
    BENCH_REDIRECT_URI: REDIRECT_URI,
    BENCH_FLOOR_DIR: dir,
  });
  const { issuer, clients } = child.ready;
  const grantTypes = new Set(['authorization_code', 'client_credentials', 'refresh_token']);
  return {
    name: 'floor',
    issuer,
    pids: () => [child.pid],
    tokenEndpoint: `${issuer}/token`,
    introspectionEndpoint: `${issuer}/introspect`,
    grantTypes,
    redirectUri: REDIRECT_URI,
    clients,
    unavailable: (grantType) => (grantTypes.has(grantType) ? undefined : `the floor has no ${grantType}`),
    // No login: the floor's authorization endpoint redirects with a code at once.
    authorize: (http, jar, _user, params) => runBrowserFlow(http, jar, authorizationUrl(`${issuer}/authorize`, params), params.state, () => undefined),
    logs: child.logs,
    async stop() {
      await child.stop();
      if (options.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
