/**
 * Catch-up subscriptions of the JetStream event store (jetstream.ts) to `$all`, on ordered
 * consumers.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { UndecodableEventError, type RecordedEvent, type SubscribeOptions, type Subscription } from './port.js';
import type { LogMessage } from './jetstream-publish.js';

/** Messages per pull request. */
export const PULL_BATCH = 256;

/** Positions per message, and so the most events one append may hold (jetstream.ts, "Positions"). */
export const EVENTS_PER_MESSAGE = 1024;

export function fromJsMsg(message: JsMsg): LogMessage {
  return { seq: message.seq, subject: message.subject, headers: message.headers, text: message.string() };
}

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
      consumer = await this.openConsumer();
      // Messages that existed when the consumer was created; once they are handled, we caught up.
      let toCatchUp = (await consumer.info(true)).num_pending;
      if (this.stopped) return;
      if (toCatchUp === 0) this.options.onCaughtUp?.();
      this.messages = await consumer.consume({ max_messages: PULL_BATCH });
      // stop() may have come while consume() was starting, before there was anything to close.
      if (this.stopped) return;
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
        if (--toCatchUp === 0) this.options.onCaughtUp?.();
      }
      if (!this.stopped) throw new Error('the JetStream consumer behind a subscription ended');
    } catch (error) {
      this.end();
      const onError = this.options.onError;
      process.nextTick(() => {
        if (onError) onError(error);
        else throw error;
      });
    } finally {
      await this.messages?.close();
      consumer?.delete().catch(() => undefined);
    }
  }

  private end(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onEnd();
    // Ends a `for await` that is waiting for the next message.
    void this.messages?.close();
  }
}
