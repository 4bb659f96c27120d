import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** A request waiting for its reply. */
export interface Waiting<T> {
  /** The subject the request went to, for errors. */
  subject: string;
  /** For the owner's use between the parts of a reply that comes in several (nats-replies.ts). */
  partial: unknown;
  timer: NodeJS.Timeout;
  resolve: (reply: T) => void;
  reject: (error: unknown) => void;
}

/**
 * The replies to every request of one connection, on one subscription (issue 12): one wildcard
 * subscription `<inbox prefix>.<nuid>.*`, as nats.js' own `request()` has, and each request its
 * own reply subject under it, so that nothing is subscribed or unsubscribed per request. The
 * owner reads each reply (`read`) and settles the request it belongs to: the bus's requests
 * (nats-replies.ts) and JetStream's acknowledgements (jetstream-acks.ts).
 */
export class ReplyInbox<T> {
  private readonly base: string;
  private readonly pending = new Map<string, Waiting<T>>();
  private readonly subscription: Subscription;
  private sequence = 0;

  constructor(
    connection: NatsConnection,
    inboxPrefix: string | undefined,
    /** Called for each reply to a request still waiting; settles it with `settle(token)` once answered. */
    private readonly read: (msg: Msg, token: string, waiting: Waiting<T>) => void,
  ) {
    // The identity's permissions allow replies only under its own prefix (permissions.ts).
    this.base = createInbox(inboxPrefix);
    this.subscription = connection.subscribe(`${this.base}.*`, {
      callback: (error, msg) => (error ? this.failAll(error) : this.onReply(msg)),
    });
  }

  /** How many requests wait for their reply. */
  get waiting(): number {
    return this.pending.size;
  }

  /**
   * Sends a request with `send(replySubject, token)` and waits for its reply; fails with
   * `timedOut()` when none has settled it within `timeoutMs`, or with what `send` throws.
   */
  request(subject: string, timeoutMs: number, timedOut: () => unknown, send: (replySubject: string, token: string) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const token = (++this.sequence).toString(36);
      const timer = setTimeout(() => this.settle(token)?.reject(timedOut()), timeoutMs);
      this.pending.set(token, { subject, partial: undefined, timer, resolve, reject });
      try {
        send(`${this.base}.${token}`, token);
      } catch (error) {
        this.settle(token)?.reject(error);
      }
    });
  }

  /** The request `token` taken out of waiting (its timer cleared), for the caller to settle; undefined if it no longer waits. */
  settle(token: string): Waiting<T> | undefined {
    const waiting = this.pending.get(token);
    if (!waiting) return undefined;
    this.pending.delete(token);
    clearTimeout(waiting.timer);
    return waiting;
  }

  /** Fails every request still waiting, at once (the connection dropped or closed). */
  failAll(error: unknown): void {
    for (const token of [...this.pending.keys()]) this.settle(token)?.reject(error);
  }

  /** Stops taking replies; the requests still waiting fail with `error`. */
  close(error: unknown): void {
    this.failAll(error);
    if (!this.subscription.isClosed()) this.subscription.unsubscribe();
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.base.length + 1);
    const waiting = this.pending.get(token);
    if (waiting) this.read(msg, token, waiting); // else timed out or failed already: nobody waits for it
  }
}
