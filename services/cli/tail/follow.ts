import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { credentialsFromEnv, natsConnectionOptions, type NatsCredentialsEnv } from '../../../infra/bus/nats-connection-options.js';
import { JETSTREAM_NAMES } from '../../../infra/bus/jetstream-names.js';
import { toCloudEvent, type CloudEvent } from '../../../infra/event-relay/cloudevent.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import { CliError, EXIT } from '../exit-codes.js';
import { logHead } from './log-head.js';

/**
 * What `idp tail` follows, until `signal` aborts: each new event as its CloudEvent (the shape of
 * `IDP_EVENTS` and `idp export`), in order. `onFollowing` is told once it follows, with where
 * it started (a `$all` position, or an `IDP_EVENTS` stream sequence).
 */
export interface FollowOptions {
  /** Start after this `$all` position (embedded) or at this stream sequence (distributed); default: from now. */
  since?: number;
  signal: AbortSignal;
  onEvent: (event: CloudEvent) => void;
  onFollowing: (where: string) => void;
}

/**
 * Embedded mode: the store's catch-up subscription from the log's current end (a SQLite file
 * opened read-only sees the server's appends by polling, every 250 ms).
 */
export async function followStore(store: EventStore, options: FollowOptions): Promise<void> {
  const after = options.since ?? (await logHead(store));
  let failure: unknown;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const subscription = store.subscribeToAll((event) => options.onEvent(toCloudEvent(event).data), {
    after,
    onError: (error) => {
      failure = error;
      stop();
    },
  });
  options.onFollowing(`the log after position ${after}`);
  if (options.signal.aborted) stop();
  options.signal.addEventListener('abort', () => stop(), { once: true });
  await stopped;
  await subscription.stop();
  if (failure !== undefined) throw new CliError(EXIT.unavailable, `the log subscription failed: ${String(failure)}`);
}

/**
 * Distributed mode: the live stream `IDP_EVENTS` on the bus's NATS, as the `admin` identity, with
 * an ephemeral ordered consumer of the tenant's subjects from now (or from a stream sequence).
 */
export async function followLiveStream(natsUrl: string, env: NatsCredentialsEnv, tenant: string, options: FollowOptions): Promise<void> {
  const nc = await connect({ ...natsConnectionOptions(natsUrl, credentialsFromEnv('admin', env)), servers: natsUrl, name: 'idp-tail' }).catch(
    (error: unknown) => {
      throw new CliError(EXIT.unavailable, `cannot reach NATS: ${String(error)}`);
    },
  );
  try {
    const consumer = await jetstream(nc)
      .consumers.get(JETSTREAM_NAMES.events, {
        filter_subjects: `${JETSTREAM_NAMES.eventSubjectPrefix}.${tenant}.>`,
        ...(options.since === undefined ? { deliver_policy: DeliverPolicy.New } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: options.since }),
      })
      .catch((error: unknown) => {
        throw new CliError(EXIT.unavailable, `cannot follow ${JETSTREAM_NAMES.events}: ${String(error)}`);
      });
    const messages = await consumer.consume();
    const stop = () => void messages.stop();
    options.signal.addEventListener('abort', stop, { once: true });
    options.onFollowing(`${JETSTREAM_NAMES.events} ${options.since === undefined ? 'from now' : `from stream sequence ${options.since}`}`);
    if (options.signal.aborted) stop();
    for await (const message of messages) options.onEvent(message.json<CloudEvent>());
  } finally {
    await nc.close();
  }
}
