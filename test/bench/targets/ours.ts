import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../support/servers.js';
import type { HttpClient } from '../http.js';
import type { Pinning } from '../pinning.js';
import { startChildServer } from './child-server.js';
import { oursTarget } from './ours-target.js';
import type { BenchUser, Target } from './target.js';

const MAIN = fileURLToPath(new URL('./ours-main.js', import.meta.url));

/**
 * Our embedded server (SQLite log, synchronous=FULL: its defaults) on the server core, with the
 * bench's users seeded and its clients registered through dynamic registration.
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
  return oursTarget(
    {
      name: 'ours',
      issuer,
      initialAccessToken,
      pids: () => [child.pid],
      logs: child.logs,
      async stop() {
        await child.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    },
    options.http,
  );
}
