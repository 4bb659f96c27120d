import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NatsConnectionOptions } from '../../infra/bus/nats-connection-options.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';

/**
 * What a deployment's log gained between two looks, read from the log itself: how an end-to-end
 * test checks that a refused request appended nothing, or exactly the events it had to. Appends
 * are durable before the answer is sent, so everything a request caused is in the log when its
 * response arrives. The log sealer's `log.checkpoint_sealed` events are left out: background work
 * of the token-issuer, caused by no request, that may land between any two looks.
 */
const causedByRequests = (event: { type: string }) => event.type !== 'log.checkpoint_sealed';
export interface LogWatch {
  /** The `type`s of the events appended since the previous call (or since opening), in log order. */
  appended(): Promise<string[]>;
  /** The same, with each event's data (and the same cursor: either call moves it). */
  appendedEvents(): Promise<LoggedEvent[]>;
  close(): Promise<void>;
}

export interface LoggedEvent {
  type: string;
  data: Record<string, unknown>;
}

/** The embedded server's SQLite log, read through the store adapter. */
export async function watchSqliteLog(file: string): Promise<LogWatch> {
  const store = SqliteEventStore.open(file);
  let position = 0;
  const watch: LogWatch = {
    async appended() {
      return (await watch.appendedEvents()).map((event) => event.type);
    },
    async appendedEvents() {
      const events = await store.readAll({ after: position });
      if (events.length > 0) position = events[events.length - 1]!.position;
      return events.filter(causedByRequests).map((event) => ({ type: event.type, data: event.data as Record<string, unknown> }));
    },
    close: () => store.close(),
  };
  await watch.appended();
  return watch;
}

/**
 * The distributed log, the JetStream stream `IDP_LOG`, read message by message with direct gets
 * (one message per append, holding that append's events as a JSON array): no consumer, so the
 * look can neither miss a message nor wait for one. (The adapter's `readAll`, tried first, was
 * seen here to wait 30 s, its read consumer's inactivity threshold, for one message more than the
 * stream held, until another append came; not reproduced outside the suite.)
 */
export async function watchJetStreamLog(natsUrl: string, stream = 'IDP_LOG', connection: NatsConnectionOptions = {}): Promise<LogWatch> {
  // `connection`: an identity that may read the log (admin) on an authenticated deployment.
  const nc: NatsConnection = await connect({ ...connection, servers: natsUrl, name: 'test-log-watch' });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const lastSequence = async () => (await jsm.streams.info(stream)).state.last_seq;
  let seen = await lastSequence();
  const watch: LogWatch = {
    async appended() {
      return (await watch.appendedEvents()).map((event) => event.type);
    },
    async appendedEvents() {
      const last = await lastSequence();
      const events: LoggedEvent[] = [];
      for (let seq = seen + 1; seq <= last; seq++) {
        const message = await jsm.streams.getMessage(stream, { seq });
        if (!message) throw new Error(`${stream} has no message ${seq} (the log has a gap)`);
        events.push(...message.json<LoggedEvent[]>().map(({ type, data }) => ({ type, data })));
      }
      seen = last;
      return events.filter(causedByRequests);
    },
    close: () => nc.close(),
  };
  return watch;
}
