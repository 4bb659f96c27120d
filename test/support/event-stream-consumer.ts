import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnectionOptions } from '../../infra/bus/nats-connection-options.js';

export interface ConsumedEvent {
  seq: number;
  subject: string;
  /** The CloudEvent `id`: the event id of the log. */
  id: string;
}

/**
 * A live consumer of the JetStream stream IDP_EVENTS, as an audit consumer would run it: an
 * ordered consumer from the first message, collecting everything while the test runs.
 */
export async function consumeEventStream(natsUrl: string, stream = 'IDP_EVENTS', connection: NatsConnectionOptions = {}) {
  // `connection`: an identity that may read IDP_EVENTS with a consumer (admin) on an authenticated deployment.
  const nc = await connect({ ...connection, servers: natsUrl, name: 'test-audit-consumer' });
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume();
  const received: ConsumedEvent[] = [];
  const done = (async () => {
    for await (const message of messages) {
      received.push({ seq: message.seq, subject: message.subject, id: message.json<{ id: string }>().id });
    }
  })();
  return {
    received,
    /** Waits until at least `count` messages arrived (or the deadline passed). */
    async waitFor(count: number, timeoutMs = 20_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    },
    async stop(): Promise<void> {
      messages.stop();
      await done;
      await nc.close();
    },
  };
}
