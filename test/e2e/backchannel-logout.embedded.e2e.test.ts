import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';
import { watchSqliteLog } from '../support/log-watch.js';
import { BACKCHANNEL_TEST_ENV, describeBackchannelLogout } from './suites/backchannel-logout.suite.js';

/** Back-channel logout against the embedded process; the sender's restart is the process's, on the same data directory and port. */
const user = { username: `bc-${randomBytes(4).toString('hex')}`, password: `pw-${randomBytes(12).toString('base64url')}` };

describeBackchannelLogout(
  'embedded',
  async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-e2e-bc-'));
    const env = { ...BACKCHANNEL_TEST_ENV, IDP_DEMO_USERNAME: user.username, IDP_DEMO_PASSWORD: user.password };
    let process: EmbeddedProcess = await startEmbeddedProcess({ dataDir, env });
    let earlierLogs = '';
    return {
      issuer: process.issuer,
      watchLog: () => watchSqliteLog(path.join(dataDir, 'idp.db')),
      async restartSender() {
        await process.stop();
        earlierLogs += process.logs();
        process = await startEmbeddedProcess({ dataDir, env, port: process.port });
      },
      logs: () => earlierLogs + process.logs(),
      async stop() {
        await process.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
  user,
);
