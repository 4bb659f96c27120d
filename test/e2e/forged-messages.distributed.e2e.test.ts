import { randomBytes } from 'node:crypto';
import { NatsBus } from '../../infra/bus/nats.js';
import { startDistributedIdp } from '../support/idp-under-test.js';
import { describeForgedMessages } from './suites/forged-messages.suite.js';

/** The forged-message suite against four service processes over NATS, JetStream log, Redis. */
describeForgedMessages('distributed', async () => {
  const user = { username: `forged-${randomBytes(4).toString('hex')}`, password: randomBytes(12).toString('base64url') };
  const server = await startDistributedIdp({ user, env: { LOG_LEVEL: 'trace' } });
  const bus = await NatsBus.connect(server.natsUrl!, { name: 'test-forger' });
  return {
    bus,
    watchLog: () => server.watchLog!(),
    user,
    logs: () => server.logs(),
    async stop() {
      await bus.close();
      await server.stop();
    },
  };
});
