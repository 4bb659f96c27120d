import fs from 'node:fs';
import path from 'node:path';
import { startEmbeddedProcess } from '../support/embedded-process.js';
import { describeAuditOverBin } from '../support/audit-bin-suite.js';

/** The embedded server's SQLite log, read by `idp` (read-only) while the server runs; `tail` follows the file. */
describeAuditOverBin('embedded server, SQLite log', async ({ user, initialAccessToken }) => {
  const server = await startEmbeddedProcess({
    env: { IDP_DEMO_USERNAME: user.username, IDP_DEMO_PASSWORD: user.password, IDP_INITIAL_ACCESS_TOKEN: initialAccessToken },
  });
  return {
    issuer: server.issuer,
    idpEnv: { EVENT_STORE_URL: `sqlite:${path.join(server.dataDir, 'idp.db')}` },
    async stop() {
      await server.stop();
      fs.rmSync(server.dataDir, { recursive: true, force: true });
    },
  };
});
