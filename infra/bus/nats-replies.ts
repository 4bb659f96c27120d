import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { BusNoResponderError, BusTimeoutError } from './port.js';

/** A failure a remote responder sent back (anything else that fails a request is local). */
export class RemoteFailure {
  constructor(readonly err: unknown) {}
}

interface PendingRequest {
  subject: string;
  /** The packet id the responder must echo (Nest's ClientNats ignores a reply with another). */
  id: string;
  /** The last value replied so far (a Nest handler returning an Observable replies once per value). */
  last: unknown;
  timer: NodeJS.Timeout;
  resolve: (reply: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The replies to every request of one connection, on one subscription (issue 12).
 *
 * Nest's ClientNats subscribes a fresh inbox for each request and unsubscribes it after the reply:
 * two more protocol messages per request for the client to write and the NATS server to apply to
 * its subscription table. Here, as nats.js's own `request()` does, one wildcard subscription
 * `<inbox prefix>.<nuid>.*` takes every reply, and each request has its own subject under it.
 * The packets are Nest's (`{ pattern, data, id }` out, `{ id, response?, err?, isDisposed? }` back),
 * so a Nest ServerNats and NatsBus.handle answer it alike; a responder that replies several times
 * (an Observable) is followed to its last reply, the one marked `isDisposed`.
 */
export class NatsReplyInbox {
  private readonly base: string;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly subscription: Subscription;
  private sequence = 0;

  constructor(
    private readonly connection: NatsConnection,
    inboxPrefix: string | undefined,
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

  request(subject: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const token = (++this.sequence).toString(36);
      // The reply subject is this request's alone, so its packet id need not be more than the token.
      const id = token;
      // Throws for what JSON cannot carry (a BigInt, a cycle): the request fails, nothing is sent.
      const wire = JSON.stringify({ pattern: subject, data: payload, id });
      const timer = setTimeout(() => {
        if (this.pending.delete(token)) reject(new BusTimeoutError(subject, timeoutMs));
      }, timeoutMs);
      this.pending.set(token, { subject, id, last: undefined, timer, resolve, reject });
      try {
        this.connection.publish(subject, wire, { reply: `${this.base}.${token}` });
      } catch (error) {
        this.settle(token)?.reject(error);
      }
    });
  }

  /** Fails every request still waiting, at once (the connection dropped or closed). */
  failAll(error: unknown): void {
    const waiting = [...this.pending.keys()];
    for (const token of waiting) this.settle(token)?.reject(error);
  }

  /** Stops taking replies; the requests still waiting fail with `error`. */
  close(error: unknown): void {
    this.failAll(error);
    if (!this.subscription.isClosed()) this.subscription.unsubscribe();
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.base.length + 1);
    const request = this.pending.get(token);
    if (!request) return; // timed out or failed already: nobody waits for it
    if (msg.data.length === 0) {
      // The server's "no responders" status (503): nobody subscribes to the subject.
      const noResponder = msg.headers?.code === 503;
      this.settle(token)?.reject(
        noResponder ? new BusNoResponderError(request.subject) : new Error(`empty reply on ${request.subject}`),
      );
      return;
    }
    let packet: { id?: unknown; response?: unknown; err?: unknown; isDisposed?: unknown };
    try {
      packet = msg.json();
    } catch {
      this.settle(token)?.reject(new Error(`undecodable reply on ${request.subject}`));
      return;
    }
    if (packet.id !== undefined && packet.id !== request.id) return; // not the answer to this packet
    if (packet.err) {
      this.settle(token)?.reject(new RemoteFailure(packet.err));
      return;
    }
    if (!packet.isDisposed) {
      request.last = packet.response;
      return;
    }
    this.settle(token)?.resolve(packet.response !== undefined ? packet.response : request.last);
  }

  private settle(token: string): PendingRequest | undefined {
    const request = this.pending.get(token);
    if (!request) return undefined;
    this.pending.delete(token);
    clearTimeout(request.timer);
    return request;
  }
}
