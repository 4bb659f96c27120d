/**
 * Catch-up subscriptions of the JetStream event store (jetstream.ts) to `$all`, on ordered
 * consumers.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { UndecodableEventError, reportSubscriptionEnd, type RecordedEvent, type SubscribeOptions, type Subscription } from './port.js';
import type { LogMessage } from './jetstream-publish.js';

/** Messages per pull request. */
export const PULL_BATCH = 256;

/** Positions per message, and so the most events one append may hold (jetstream.ts, "Positions"). */
export const EVENTS_PER_MESSAGE = 1024;

export function fromJsMsg(message: JsMsg): LogMessage {
  return { seq: message.seq, subject: message.subject, headers: message.headers, text: message.string() };
}

/** Consumer notifications that mean the server no longer has the consumer. */
const LOST = new Set(['consumer_not_found', 'consumer_deleted', 'stream_not_found', 'reset', 'ordered_consumer_recreated']);

/** Which subscription's loop the current async context belongs to (see `stop`). */
const runningLoop = new AsyncLocalStorage<ConsumerSubscription>();

/**
 * A catch-up subscription on one ordered consumer: history and live messages come through the
 * same consumer, so nothing is missed or delivered twice between the two. Handler errors end it
 * and go to `onError` (rethrown as uncaught without one), like the other adapters' subscriptions.
 */
export class ConsumerSubscription implements Subscription {
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private readonly finished: Promise<void>;

  constructor(
    /**
     * The stream's last sequence now. Read before the consumer is made: once a message at or past
     * it was handled, everything that existed at the start was, since the consumer is ordered.
     */
    private readonly lastSequence: () => Promise<number>,
    private readonly openConsumer: () => Promise<Consumer>,
    private readonly decode: (message: LogMessage) => RecordedEvent[],
    private readonly handler: (event: RecordedEvent) => Promise<void> | void,
    private readonly options: SubscribeOptions,
    private readonly onEnd: () => void,
  ) {
    this.finished = runningLoop.run(this, () => this.run());
  }

  async stop(): Promise<void> {
    this.end();
    // Called from the handler (or onCaughtUp) itself: waiting for the loop would wait for us.
    if (runningLoop.getStore() === this) return;
    await this.finished;
  }

  private async run(): Promise<void> {
    let consumer: Consumer | undefined;
    try {
      // Caught up once the message at the stream's last sequence of now is handled. Not the
      // consumer's `num_pending` at creation: nats-server may count a message more than it
      // delivers when one is stored while the consumer is made, and the subscription would then
      // never say it caught up.
      const target = await this.lastSequence();
      consumer = await this.openConsumer();
      let caughtUp = false;
      const reached = (sequence: number) => {
        if (caughtUp || sequence < target) return;
        caughtUp = true;
        this.options.onCaughtUp?.();
      };
      if (this.stopped) return;
      // Starting past the target (the subscription begins after the log's last event): caught up.
      reached((await consumer.info(true)).delivered.stream_seq);
      this.messages = await consumer.consume({ max_messages: PULL_BATCH });
      // stop() may have come while consume() was starting, before there was anything to close.
      if (this.stopped) return;
      const lost = this.watchForLoss(this.messages);
      for await (const message of this.messages) {
        let events: RecordedEvent[];
        try {
          events = this.decode(fromJsMsg(message));
        } catch (error) {
          throw new UndecodableEventError(message.seq * EVENTS_PER_MESSAGE, message.subject, error);
        }
        for (const event of events) {
          if (this.stopped) return;
          await this.handler(event);
        }
        if (this.stopped) return;
        reached(message.seq);
      }
      if (!this.stopped) throw lost.reason ?? new Error('the JetStream consumer behind a subscription ended');
    } catch (error) {
      this.end();
      reportSubscriptionEnd(this.options, error);
    } finally {
      await this.messages?.close();
      consumer?.delete().catch(() => undefined);
    }
  }

  /**
   * Once the server lost the consumer (a restart of nats-server drops it), nats.js recreates the
   * ordered consumer, but the recreated one may deliver one message now and then and no more: the
   * subscription would follow no longer, without an error. So a lost consumer ends the
   * subscription with an error instead, and the follower subscribes again after its checkpoint on
   * a new consumer (projector.ts), as after any failure.
   */
  private watchForLoss(messages: ConsumerMessages): { reason: Error | undefined } {
    const lost: { reason: Error | undefined } = { reason: undefined };
    void (async () => {
      for await (const status of messages.status()) {
        if (!LOST.has(status.type)) continue;
        lost.reason = new Error(`the JetStream consumer behind a subscription was lost (${status.type}): subscribe again`);
        void messages.close();
        return;
      }
    })().catch(() => undefined);
    return lost;
  }

  private end(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onEnd();
    // Ends a `for await` that is waiting for the next message.
    void this.messages?.close();
  }
}
