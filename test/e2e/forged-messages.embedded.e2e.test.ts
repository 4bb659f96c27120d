import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../infra/log/logger.js';
import { loadEmbeddedConfig } from '../../services/embedded/config.js';
import { startEmbeddedServer } from '../../services/embedded/embedded-server.js';
import { watchSqliteLog } from '../support/log-watch.js';
import { describeForgedMessages } from './suites/forged-messages.suite.js';

/**
 * The forged-message suite against the embedded server, started in this process so that the
 * test can speak on its in-process bus as the gateway does.
 */
describeForgedMessages('embedded', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-forged-'));
  const user = { username: `forged-${randomBytes(4).toString('hex')}`, password: randomBytes(12).toString('base64url') };
  const config = loadEmbeddedConfig({
    PORT: '0',
    IDP_DATA_DIR: dataDir,
    EVENT_STORE_URL: `sqlite:${path.join(dataDir, 'idp.db')}`,
    IDP_DEMO_USERNAME: user.username,
    IDP_DEMO_PASSWORD: user.password,
    IDP_ARGON2_MEMORY_KIB: '8192',
    IDP_ARGON2_TIME_COST: '1',
    IDP_ARGON2_PARALLELISM: '1',
    LOG_LEVEL: 'trace',
  });
  const lines: string[] = [];
  const server = await startEmbeddedServer(config, createLogger({ level: 'trace' }, { write: (line: string) => void lines.push(line) }));
  return {
    bus: server.bus,
    watchLog: () => watchSqliteLog(path.join(dataDir, 'idp.db')),
    user,
    logs: () => lines.join(''),
    async stop() {
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
