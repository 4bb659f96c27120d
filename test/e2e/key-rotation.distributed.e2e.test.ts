import { DEMO_USER_CLAIMS } from '../../services/embedded/demo-seed.js';
import { runIdp } from '../support/cli.js';
import { startDistributed } from '../support/distributed-topology.js';
import { describeKeyRotation, TEST_ACTIVATION_DELAY_SECONDS } from './suites/key-rotation.suite.js';

/**
 * Key rotation against the distributed services with TWO token-issuer replicas in one queue
 * group, on a nats-server with the generated NKey users and permissions: `idp keys` talks to the
 * token-issuer over NATS as the admin identity, and both replicas follow the keyring (each check
 * of the suite asks several times, so that both answer).
 */
const user = { username: 'keys-e2e', password: 'keys-e2e-password' };

describeKeyRotation('distributed, two token-issuers', async () => {
  const topology = await startDistributed({
    secured: true,
    env: { IDP_KEY_ACTIVATION_DELAY_SECONDS: String(TEST_ACTIVATION_DELAY_SECONDS) },
    user: { ...user, ...DEMO_USER_CLAIMS },
  });
  let replica: { stop(): Promise<void> };
  try {
    replica = await topology.startReplica('token-issuer');
  } catch (error) {
    await topology.stop();
    throw error;
  }
  return {
    issuer: topology.issuer,
    user,
    idp: (argv) => runIdp(argv, { env: { BUS_URL: topology.natsUrl, IDP_NATS_SEED: topology.secrets.nats.admin.seed, IDP_ADMIN_ACTOR: 'ops' } }),
    // The topology stops the processes it started with; a replica is its starter's to stop.
    async stop() {
      await replica.stop();
      await topology.stop();
    },
  };
});
