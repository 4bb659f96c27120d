import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { reportSubscriptionEnd, type RecordedEvent, type SubscribeOptions, type Subscription } from './port.js';

const PAGE_SIZE = 500;

/** Which subscription's loop the current async context belongs to (see `stop`). */
const runningLoop = new AsyncLocalStorage<CatchUpSubscription>();

/**
 * The catch-up loop behind `subscribeToAll` of the in-memory and SQLite adapters: read a page
 * after the last delivered position, hand its events to the handler one at a time, and once a
 * read comes back empty, sleep until `notify()` says there may be more.
 *
 * A handler error (or a failing read) ends the subscription and goes to `onError`; without an
 * `onError` it is rethrown as an uncaught exception, the way an EventEmitter 'error' without a
 * listener is, because a projection that silently stops is worse than a crash.
 */
export class CatchUpSubscription implements Subscription {
  private stopped = false;
  /** Set by `notify()`; cleared before each read, so a notify during a read or delivery is kept. */
  private notified = false;
  private wake: (() => void) | undefined;
  private readonly finished: Promise<void>;

  constructor(
    private readonly readAfter: (after: number, limit: number) => RecordedEvent[] | Promise<RecordedEvent[]>,
    private readonly handler: (event: RecordedEvent) => Promise<void> | void,
    private readonly options: SubscribeOptions,
    /** Called once when the subscription ends, by `stop()` or by an error. */
    private readonly onEnd: () => void,
  ) {
    this.finished = runningLoop.run(this, () => this.run());
  }

  /** There may be new events: the loop reads again if it is waiting, or after its current page. */
  notify(): void {
    this.notified = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.end();
    // Called from the handler (or onCaughtUp) itself: waiting for the loop would wait for us.
    // The loop sees `stopped` as soon as the handler returns, so nothing more is delivered.
    if (runningLoop.getStore() === this) return;
    await this.finished;
  }

  private async run(): Promise<void> {
    // Start on a later tick: `readAfter` may be synchronous and fail at once, and the error path
    // must not run before the constructor has returned (and the caller stored the subscription).
    await Promise.resolve();
    let position = this.options.after ?? 0;
    let caughtUp = false;
    try {
      while (!this.stopped) {
        this.notified = false;
        const page = await this.readAfter(position, PAGE_SIZE);
        for (const event of page) {
          if (this.stopped) return;
          await this.handler(event);
          position = event.position;
        }
        if (page.length > 0) {
          // Caught up only once a read comes back empty: a store may hand over a short page
          // (the good events before a record it cannot decode, which the next read reports).
          // Reads and handlers may all be synchronous: let I/O in between pages of a long catch-up.
          if (page.length === PAGE_SIZE) await nextTurn();
          continue;
        }
        if (this.stopped) return;
        if (!caughtUp) {
          caughtUp = true;
          this.options.onCaughtUp?.();
        }
        if (!this.notified) await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } catch (error) {
      this.end();
      reportSubscriptionEnd(this.options, error);
    }
  }

  private end(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onEnd();
    this.wake?.();
  }
}
