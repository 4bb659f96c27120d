import { DEMO_USER_CLAIMS } from '../../services/embedded/demo-seed.js';
import { startDistributed } from '../support/distributed-topology.js';
import { describeAuditOverBin } from '../support/audit-bin-suite.js';

/**
 * A distributed deployment as `npm run start:distributed` runs it (NKey users, derived
 * permissions): `idp` reads the JetStream log and follows IDP_EVENTS as the `admin` identity.
 */
describeAuditOverBin('distributed services, JetStream log and IDP_EVENTS', async ({ user, initialAccessToken }) => {
  const topology = await startDistributed({
    secured: true,
    env: { IDP_INITIAL_ACCESS_TOKEN: initialAccessToken },
    user: { ...user, ...DEMO_USER_CLAIMS },
  });
  return {
    issuer: topology.issuer,
    idpEnv: { EVENT_STORE_URL: topology.eventStoreUrl, BUS_URL: topology.natsUrl, IDP_NATS_SEED: topology.secrets.nats.admin.seed },
    stop: () => topology.stop(),
  };
});
