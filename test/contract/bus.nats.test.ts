import { Logger } from '@nestjs/common';
import { NatsBus } from '../../infra/bus/nats.js';
import { startNats, type TestServer } from '../support/servers.js';
import { describeBusContract } from './bus.contract.js';

// The contract provokes failures (a throwing subscriber) that NatsBus and ClientNats log.
Logger.overrideLogger(false);

// One nats-server for the file (started on first use); every connect() is a new NATS connection.
let server: Promise<TestServer> | undefined;
const nats = (): Promise<TestServer> => (server ??= startNats());

afterAll(async () => {
  await (await server)?.stop();
});

describeBusContract('NATS', async () => {
  const { url } = await nats();
  const connections: NatsBus[] = [];
  return {
    async connect() {
      // The contract leaves handlers that never answer: close() need not wait for them.
      const bus = await NatsBus.connect(url, { name: 'bus-contract', closeGraceMs: 100 });
      connections.push(bus);
      return bus;
    },
    async cleanup() {
      await Promise.all(connections.map((bus) => bus.close()));
    },
    // The server applies each connection's subscriptions in order: a round trip on every
    // connection proves they are all in force.
    async registered() {
      await Promise.all(connections.map((bus) => bus.flush().catch(() => {})));
    },
  };
});
