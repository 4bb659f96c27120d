import { randomBytes } from 'node:crypto';
import { startDistributed } from '../support/distributed-topology.js';
import { watchJetStreamLog } from '../support/log-watch.js';
import { BACKCHANNEL_TEST_ENV, describeBackchannelLogout } from './suites/backchannel-logout.suite.js';

/** Back-channel logout across the four service processes; the token-issuer sends, and is the one restarted. */
const user = { username: `bc-${randomBytes(4).toString('hex')}`, password: `pw-${randomBytes(12).toString('base64url')}` };

describeBackchannelLogout(
  'distributed',
  async () => {
    const topology = await startDistributed({ env: BACKCHANNEL_TEST_ENV, user });
    return {
      issuer: topology.issuer,
      watchLog: () => watchJetStreamLog(topology.natsUrl, 'IDP_LOG', topology.natsAs('admin')),
      restartSender: () => topology.restart('token-issuer'),
      logs: () => topology.logs(),
      startSecondSender: () => topology.startReplica('token-issuer'),
      stop: () => topology.stop(),
    };
  },
  user,
  true,
);
