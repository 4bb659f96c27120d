import { AsyncLocalStorage } from 'node:async_hooks';
import { reportSubscriptionEnd, type RecordedEvent, type SubscribeOptions, type Subscription } from './port.js';

/** What a shared feed needs of its store. */
export interface FeedSource {
  /** The store's own catch-up subscription: the one the feed runs. */
  subscribe(handler: (event: RecordedEvent) => void, options: SubscribeOptions): Subscription;
  readAll(options: { after: number; limit: number }): Promise<RecordedEvent[]>;
  /** The position of the last event in `$all` (0 when empty). */
  headPosition(): Promise<number>;
}

/** Events the feed keeps, so that a member starting close behind it joins without reading the log. */
const RECENT_EVENTS = 1024;
/** Events a member may have waiting; one further behind leaves the feed and reads the log until it catches up. */
const MAX_BACKLOG = 10_000;
/** Events per read of a member that reads the log on its own. */
const PAGE_SIZE = 500;

/** Which member's loop the current async context belongs to (see `stop`). */
const runningLoop = new AsyncLocalStorage<Member>();

/**
 * One subscription to `$all` shared by every follower of a process (issue 12). Each follower of a
 * distributed service (its projector, the relay, the back-channel sender, the log sealer) used
 * to run its own JetStream consumer: nats-server delivered every event once per follower, and
 * each decoded it again. Now the store runs one subscription (the feed), and each follower is a
 * member with its own position, queue and loop:
 *
 * - a member that starts behind what the feed still holds reads the log on its own, a page at a
 *   time, until it reaches the feed, and then joins it; the first member starts the feed at its
 *   own position; a member that falls more than MAX_BACKLOG events behind leaves the feed and
 *   reads again, so a slow follower never holds the others back nor fills the memory;
 * - each member's handler is awaited before its next event, as with the store's own
 *   subscriptions, and a handler error ends that member alone;
 * - a member is caught up once it handled the log's head of when it started (`headPosition`);
 * - a failure of the feed (a lost consumer) ends every member that had joined it, with that
 *   error, as it would have ended their own subscriptions; they subscribe again (their followers
 *   do, after a backoff) and the next one starts a new feed. The last member to stop stops it.
 *
 * The contract suite runs against it (test/contract/event-store.shared-feed.test.ts) as against
 * every adapter's own subscriptions.
 */
export class SharedFeed {
  private readonly members = new Set<Member>();
  private feed: Subscription | undefined;
  /** The position the feed has reached: the last event it received, or where it started. */
  private feedPosition = 0;
  /** The last events the feed received, in order; `recentFloor` is the position just before the first. */
  private recent: RecordedEvent[] = [];
  private recentFloor = 0;

  constructor(private readonly source: FeedSource) {}

  subscribe(handler: (event: RecordedEvent) => Promise<void> | void, options: SubscribeOptions = {}): Subscription {
    const member = new Member(this, handler, options);
    this.members.add(member);
    member.start();
    return member;
  }

  /** Stops every member (waiting for running handlers), then the feed. */
  async close(): Promise<void> {
    await Promise.all([...this.members].map((member) => member.stop()));
    await this.stopFeed();
  }

  headPosition(): Promise<number> {
    return this.source.headPosition();
  }

  readAll(after: number): Promise<RecordedEvent[]> {
    return this.source.readAll({ after, limit: PAGE_SIZE });
  }

  /**
   * The events after `position` the feed still holds, when the feed covers `position` (starting
   * it there if it is not running); undefined when the member must read the log first.
   */
  join(position: number): RecordedEvent[] | undefined {
    if (this.feed === undefined) {
      this.startFeed(position);
      return [];
    }
    if (position >= this.feedPosition) return [];
    if (position < this.recentFloor) return undefined;
    return this.recent.filter((event) => event.position > position);
  }

  /** Resolves once the feed is stopped, if this was its last member. */
  leave(member: Member): Promise<void> {
    this.members.delete(member);
    return this.members.size === 0 ? this.stopFeed() : Promise.resolve();
  }

  private startFeed(after: number): void {
    this.feedPosition = after;
    this.recent = [];
    this.recentFloor = after;
    // Outside the member's async context: the feed outlives the member that started it.
    const feed: Subscription = runningLoop.exit(() =>
      this.source.subscribe(
        (event) => {
          if (this.feed === feed) this.receive(event);
        },
        {
          after,
          onError: (error) => {
            if (this.feed !== feed) return;
            this.feed = undefined;
            for (const member of this.members) member.feedFailed(error);
          },
        },
      ),
    );
    this.feed = feed;
  }

  private receive(event: RecordedEvent): void {
    this.feedPosition = event.position;
    this.recent.push(event);
    if (this.recent.length > RECENT_EVENTS) {
      const dropped = this.recent.splice(0, this.recent.length - RECENT_EVENTS / 2);
      this.recentFloor = dropped[dropped.length - 1]!.position;
    }
    for (const member of this.members) member.offer(event);
  }

  private async stopFeed(): Promise<void> {
    const feed = this.feed;
    this.feed = undefined;
    await feed?.stop();
  }
}

/** One follower's subscription to a shared feed. */
class Member implements Subscription {
  private stopped = false;
  private joined = false;
  private backlog: RecordedEvent[] = [];
  private position: number;
  private wake: (() => void) | undefined;
  private failure: { error: unknown } | undefined;
  private finished: Promise<void> = Promise.resolve();
  /** Resolves once this member has left the feed (and stopped it, if it was the last). */
  private left: Promise<void> = Promise.resolve();

  constructor(
    private readonly feed: SharedFeed,
    private readonly handler: (event: RecordedEvent) => Promise<void> | void,
    private readonly options: SubscribeOptions,
  ) {
    this.position = options.after ?? 0;
  }

  start(): void {
    this.finished = runningLoop.run(this, () => this.run());
  }

  async stop(): Promise<void> {
    this.end();
    // Called from the handler (or onCaughtUp) itself: waiting for the loop would wait for us.
    if (runningLoop.getStore() === this) return;
    await this.finished;
    await this.left;
  }

  /** A new event of the feed, if this member has joined it. */
  offer(event: RecordedEvent): void {
    if (!this.joined || this.stopped) return;
    if (this.backlog.length >= MAX_BACKLOG) {
      // Too far behind: read the log on its own from where it is, and join again later.
      this.joined = false;
      this.backlog = [];
    } else {
      this.backlog.push(event);
    }
    this.wake?.();
  }

  feedFailed(error: unknown): void {
    if (!this.joined) return;
    this.joined = false;
    this.failure = { error };
    this.wake?.();
  }

  private async run(): Promise<void> {
    // Start on a later tick, once the caller holds the subscription (an error must find it).
    await Promise.resolve();
    try {
      const head = await this.feed.headPosition();
      let caughtUp = false;
      const reached = () => {
        if (caughtUp || this.stopped || this.position < head) return;
        caughtUp = true;
        this.options.onCaughtUp?.();
      };
      reached();
      while (!this.stopped) {
        if (this.failure) throw this.failure.error;
        if (!this.joined) {
          const held = this.feed.join(this.position);
          if (held !== undefined) {
            this.joined = true;
            this.backlog = held;
            continue;
          }
          for (const event of await this.feed.readAll(this.position)) {
            if (this.stopped) return;
            await this.handler(event);
            this.position = event.position;
            reached();
          }
          continue;
        }
        const event = this.backlog.shift();
        if (event === undefined) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        // The feed may be behind a member that read the log on its own.
        if (event.position <= this.position) continue;
        await this.handler(event);
        this.position = event.position;
        reached();
      }
    } catch (error) {
      this.end();
      reportSubscriptionEnd(this.options, error);
    }
  }

  private end(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.backlog = [];
    this.left = this.feed.leave(this);
    this.wake?.();
  }
}
