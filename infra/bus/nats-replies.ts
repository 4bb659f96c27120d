import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { BusNoResponderError, BusTimeoutError } from './port.js';
import { ReplyInbox, type Waiting } from './reply-inbox.js';

/** A failure a remote responder sent back (anything else that fails a request is local). */
export class RemoteFailure {
  constructor(readonly err: unknown) {}
}

/**
 * The bus's requests, every reply on one subscription of the connection (reply-inbox.ts,
 * issue 12).
 *
 * Nest's ClientNats subscribes a fresh inbox for each request and unsubscribes it after the reply:
 * two more protocol messages per request for the client to write and the NATS server to apply to
 * its subscription table. The packets are Nest's (`{ pattern, data, id }` out,
 * `{ id, response?, err?, isDisposed? }` back), so a Nest ServerNats and NatsBus.handle answer it
 * alike; a responder that replies several times (an Observable) is followed to its last reply,
 * the one marked `isDisposed`.
 */
export class NatsReplyInbox {
  private readonly inbox: ReplyInbox<unknown>;

  constructor(
    private readonly connection: NatsConnection,
    inboxPrefix: string | undefined,
  ) {
    this.inbox = new ReplyInbox(connection, inboxPrefix, (msg, token, waiting) => this.onReply(msg, token, waiting));
  }

  /** How many requests wait for their reply. */
  get waiting(): number {
    return this.inbox.waiting;
  }

  request(subject: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    return this.inbox.request(
      subject,
      timeoutMs,
      () => new BusTimeoutError(subject, timeoutMs),
      (reply, token) => {
        // The reply subject is this request's alone, so its packet id need not be more than the token.
        // Throws for what JSON cannot carry (a BigInt, a cycle): the request fails, nothing is sent.
        const wire = JSON.stringify({ pattern: subject, data: payload, id: token });
        this.connection.publish(subject, wire, { reply });
      },
    );
  }

  /** Fails every request still waiting, at once (the connection dropped or closed). */
  failAll(error: unknown): void {
    this.inbox.failAll(error);
  }

  /** Stops taking replies; the requests still waiting fail with `error`. */
  close(error: unknown): void {
    this.inbox.close(error);
  }

  private onReply(msg: Msg, token: string, request: Waiting<unknown>): void {
    if (msg.data.length === 0) {
      // The server's "no responders" status (503): nobody subscribes to the subject.
      const noResponder = msg.headers?.code === 503;
      this.inbox.settle(token)?.reject(noResponder ? new BusNoResponderError(request.subject) : new Error(`empty reply on ${request.subject}`));
      return;
    }
    let packet: { id?: unknown; response?: unknown; err?: unknown; isDisposed?: unknown };
    try {
      packet = msg.json();
    } catch {
      this.inbox.settle(token)?.reject(new Error(`undecodable reply on ${request.subject}`));
      return;
    }
    if (packet.id !== undefined && packet.id !== token) return; // not the answer to this packet
    if (packet.err) {
      this.inbox.settle(token)?.reject(new RemoteFailure(packet.err));
      return;
    }
    if (!packet.isDisposed) {
      request.partial = packet.response;
      return;
    }
    this.inbox.settle(token)?.resolve(packet.response !== undefined ? packet.response : request.partial);
  }
}
