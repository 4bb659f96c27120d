import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { consumeEventStream } from '../support/event-stream-consumer.js';
import { startSecuredDistributedIdp } from '../support/idp-under-test.js';
import { describeAuthorizationCodeFlows } from './suites/authorization-code.suite.js';

/**
 * The same suite as embedded, through the gateway of four service processes on a nats-server run
 * with the generated NKey users and permissions (every call the flows make is one a contract allows); and, as an audit
 * consumer would, a live consumer of IDP_EVENTS running for the whole suite must end up with
 * every event of the log, in `$all` order, none missing or doubled.
 */
let consumer: Awaited<ReturnType<typeof consumeEventStream>> | undefined;

afterAll(async () => {
  await consumer?.stop();
});

describeAuthorizationCodeFlows('distributed', startSecuredDistributedIdp, {
  started: async (server) => {
    consumer = await consumeEventStream(server.natsUrl!, 'IDP_EVENTS', server.natsAs!('admin'));
  },
  afterFlows: (server) => {
    it('a consumer of IDP_EVENTS during the suite received every event of the log once, in $all order', async () => {
      const store = await JetStreamEventStore.connect(server().natsUrl!, { connection: server().natsAs!('admin') });
      try {
        const log = await store.readAll();
        expect(log.length).toBeGreaterThan(50);
        await consumer!.waitFor(log.length);
        const ids = consumer!.received.map((event) => event.id);
        expect(ids).toEqual(log.map((event) => (event.metadata as { eventId: string }).eventId));
        expect(consumer!.received.map((event) => event.seq)).toEqual(log.map((_, i) => i + 1));
      } finally {
        await store.close();
      }
    }, 60_000);
  },
});
