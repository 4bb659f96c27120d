import fs from 'node:fs';
import path from 'node:path';
import { runIdp } from '../support/cli.js';
import { startEmbeddedProcess } from '../support/embedded-process.js';
import { describeKeyRotation, TEST_ACTIVATION_DELAY_SECONDS } from './suites/key-rotation.suite.js';

/**
 * Key rotation against the embedded server: `idp keys` runs the token-issuer's own handler in
 * its process on the server's SQLite file (and data directory, for the KEK); the running server
 * follows the keyring stream and serves what the bin appended, without a restart.
 */
const user = { username: 'keys-e2e', password: 'keys-e2e-password' };

describeKeyRotation('embedded', async () => {
  const delay = { IDP_KEY_ACTIVATION_DELAY_SECONDS: String(TEST_ACTIVATION_DELAY_SECONDS) };
  const server = await startEmbeddedProcess({ env: { IDP_DEMO_USERNAME: user.username, IDP_DEMO_PASSWORD: user.password, ...delay } });
  return {
    issuer: server.issuer,
    user,
    idp: (argv) =>
      runIdp(argv, {
        env: { EVENT_STORE_URL: `sqlite:${path.join(server.dataDir, 'idp.db')}`, IDP_DATA_DIR: server.dataDir, IDP_ADMIN_ACTOR: 'ops', ...delay },
      }),
    async stop() {
      await server.stop();
      fs.rmSync(server.dataDir, { recursive: true, force: true });
    },
  };
});
