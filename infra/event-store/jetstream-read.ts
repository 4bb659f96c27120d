/**
 * Reading the JetStream log's stream with consumers (jetstream.ts): ordered consumers for the
 * subscriptions, and bounded reads of what exists now for readAll and long streams.
 */
import type { Consumer, ConsumerMessages, JetStreamClient } from '@nats-io/jetstream';
import type { LogMessage } from './jetstream-publish.js';
import { PULL_BATCH, fromJsMsg } from './jetstream-subscription.js';

/** A read's consumer is deleted when done; should that fail, the server drops it after this. */
const READ_CONSUMER_INACTIVE_MS = 30_000;

/** The log's stream, as the readers need it. */
export interface LogStreamAccess {
  js: JetStreamClient;
  streamName: string;
}

export function orderedConsumer(log: LogStreamAccess, filter: string, startSequence: number, inactiveMs?: number): Promise<Consumer> {
  return log.js.consumers.get(log.streamName, {
    filter_subjects: filter,
    opt_start_seq: startSequence,
    ...(inactiveMs === undefined ? {} : { inactive_threshold: inactiveMs }),
  });
}

/**
 * The messages on `filter` from `startSequence` that exist now, in order. The consumer's
 * `num_pending` at creation counts them; messages published later are not read.
 *
 * With `lastSequence` (a read of the whole log), the read also ends at that message: nats-server
 * may count a message more than it delivers when one is stored while the consumer is made
 * (jetstream-subscription.ts), and a read trusting the counts alone then waited for the next
 * append to the log, seconds or minutes away (a follower catching up on the shared feed met it).
 */
export async function* readMessages(
  log: LogStreamAccess,
  filter: string,
  startSequence: number,
  batchHint = PULL_BATCH,
  lastSequence?: number,
): AsyncGenerator<LogMessage> {
  const consumer = await orderedConsumer(log, filter, startSequence, READ_CONSUMER_INACTIVE_MS);
  let messages: ConsumerMessages | undefined;
  try {
    const pendingAtStart = (await consumer.info(true)).num_pending;
    if (pendingAtStart === 0) return;
    messages = await consumer.consume({ max_messages: Math.max(1, Math.min(pendingAtStart, PULL_BATCH, batchHint)) });
    let delivered = 0;
    for await (const message of messages) {
      // The server says with each message how many more match: the read ends at the log's end as
      // the server sees it then, never waiting for a message a count taken earlier expected; and
      // at most at that count, so appends arriving meanwhile cannot keep it reading.
      const more = message.info.pending;
      yield fromJsMsg(message);
      if (more === 0 || ++delivered >= pendingAtStart || (lastSequence !== undefined && message.seq >= lastSequence)) return;
    }
    throw new Error(`JetStream read of ${filter} ended before the log's end`);
  } finally {
    await messages?.close();
    consumer.delete().catch(() => undefined);
  }
}
