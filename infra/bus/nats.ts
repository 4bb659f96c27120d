import { Logger } from '@nestjs/common';
import { NatsRequestJSONDeserializer } from '@nestjs/microservices';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  type Bus,
  type BusRequestOptions,
  BusNoResponderError,
  BusRemoteError,
  BusTimeoutError,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './port.js';
import type { NatsConnectionOptions } from './nats-connection-options.js';
import { NatsReplyInbox, RemoteFailure } from './nats-replies.js';

/**
 * NATS adapter of the bus port, speaking the wire format of @nestjs/microservices:
 * - a request is the JSON packet `{ pattern, data, id }` published on the subject with a reply
 *   subject; every reply is `{ id, response?, err?, isDisposed? }`, the last one `isDisposed`;
 * - an event is `{ pattern, data }` (no id, no reply);
 * - the subject is the pattern, a service's handlers form a queue group.
 *
 * Requests take their replies on one subscription (nats-replies.ts) rather than through Nest's
 * ClientNats, which subscribes an inbox per request; handlers and subscribers are plain
 * subscriptions that answer as Nest's ServerNats does. So a Nest ClientProxy or NatsBus.request
 * can ask, and a Nest NATS microservice or NatsBus.handle (or a BusTransportServer over a
 * NatsBus) can answer, interchangeably (test/unit/nats-nest-interop.test.ts).
 *
 * Everything runs on one NATS connection, so what one NatsBus does reaches the server in order:
 * a handler registered (or withdrawn) before a request on the same bus is in place (or gone)
 * when that request arrives.
 */

/** What requests fail with once the bus is closed (pending ones included). */
const CONNECTION_CLOSED = 'bus connection closed';

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message === 'string') return message;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

export class NatsBus implements Bus {
  private readonly logger = new Logger(NatsBus.name);
  private readonly deserializer = new NatsRequestJSONDeserializer();
  private readonly subscriptions = new Set<Subscription>();
  /** The messages of handle() and subscribe() being handled (serve and notify never reject). */
  private readonly handling = new Set<Promise<void>>();
  private closed = false;
  private closing: Promise<void> | undefined;

  /** False from a lost connection until it is back: requests fail at once meanwhile. */
  private connected = true;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly replies: NatsReplyInbox,
    private readonly closeGraceMs: number,
  ) {
    void this.followConnection();
  }

  /**
   * `connection`: the identity's credentials, inbox prefix and TLS (nats-connection-options.ts).
   * `closeGraceMs`: how long close() lets running handlers reply (by default, as long as a caller waits).
   */
  static async connect(url: string, options: { name?: string; connection?: NatsConnectionOptions; closeGraceMs?: number } = {}): Promise<NatsBus> {
    const connection = await connect({
      ...options.connection,
      servers: [url],
      ...(options.name ? { name: options.name } : {}),
      // A process outlives a NATS outage: keep reconnecting (nats.js gives up after 10 tries).
      maxReconnectAttempts: -1,
    });
    try {
      return new NatsBus(connection, new NatsReplyInbox(connection, options.connection?.inboxPrefix), options.closeGraceMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  }

  async request<TReply = unknown>(subject: string, payload: unknown, options: BusRequestOptions = {}): Promise<TReply> {
    this.assertOpen();
    // A request sent now would be buffered, and its reply could not come back while the
    // connection is down: it fails at once, as Nest's ClientNats fails it (the caller says 503).
    if (!this.connected) throw new Error(`request on ${subject} failed: the NATS connection is lost, reconnecting`);
    try {
      return (await this.replies.request(subject, payload, options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)) as TReply;
    } catch (error) {
      throw this.toBusError(subject, error);
    }
  }

  async publish(subject: string, payload: unknown): Promise<void> {
    this.assertOpen();
    // Fire-and-forget, at most once: handed to the connection, which may buffer it while reconnecting.
    this.connection.publish(subject, JSON.stringify({ pattern: subject, data: payload }));
  }

  handle(subject: string, queue: string, handler: (payload: unknown) => Promise<unknown> | unknown): () => void {
    return this.register(subject, queue, (msg) => this.serve(subject, msg, handler));
  }

  subscribe(subject: string, handler: (payload: unknown) => Promise<void> | void): () => void {
    return this.register(subject, undefined, (msg) => this.notify(subject, msg, handler));
  }

  /**
   * Closes gracefully, as Nest's ServerNats with `gracefulShutdown` does: fails the requests this
   * bus still waits for; withdraws its handlers and subscribers (the server confirms, so a new
   * request goes to another instance or fails at once with no responder), while the messages
   * already received are still handled; lets the handlers still running reply, for at most
   * `closeGraceMs`; then flushes what was sent and closes the connection.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.replies.close(new Error(CONNECTION_CLOSED));
      const subscriptions = [...this.subscriptions];
      this.subscriptions.clear();
      this.closing = this.connection.isClosed() ? Promise.resolve() : this.closeGracefully(subscriptions);
    }
    return this.closing;
  }

  /**
   * Resolves once the server has processed everything this connection sent so far, such as the
   * subscriptions of handle() and subscribe(): from then on, requests from other connections
   * reach them. (Within one NatsBus, order is kept without it.)
   */
  async flush(): Promise<void> {
    this.assertOpen();
    await this.connection.flush();
  }

  /**
   * For readiness checks: a round trip to the NATS server. Fails at once when the bus is closed
   * or the connection is lost (reconnecting), and after `timeoutMs` without an answer.
   */
  async ping(timeoutMs = 1000): Promise<void> {
    this.assertOpen();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.connection.rtt(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`NATS did not answer a ping within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The NATS connection, as Nest's `unwrap()` gives it. */
  unwrap(): NatsConnection {
    return this.connection;
  }

  private async closeGracefully(subscriptions: Subscription[]): Promise<void> {
    const withdrawnAndAnswered = (async () => {
      await Promise.all(subscriptions.map((subscription) => (subscription.isClosed() ? undefined : subscription.drain().catch(() => {}))));
      await Promise.allSettled([...this.handling]);
    })();
    // Bounded: a server that is down cannot confirm the withdrawal, a handler may hang.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([withdrawnAndAnswered, new Promise((resolve) => (timer = setTimeout(resolve, this.closeGraceMs)))]);
    clearTimeout(timer);
    // A connection that is down cannot flush what it holds: it is closed instead.
    await (this.connected ? this.connection.drain() : this.connection.close()).catch(() => {});
  }

  private register(subject: string, queue: string | undefined, onMessage: (msg: Msg) => Promise<void>): () => void {
    this.assertOpen();
    const subscription = this.connection.subscribe(subject, {
      ...(queue === undefined ? {} : { queue }),
      callback: (error, msg) => {
        if (error) return this.logger.error(`subscription to ${subject} failed: ${messageOf(error)}`);
        // Followed until it settles, so that close() can let it reply.
        const handling = onMessage(msg);
        this.handling.add(handling);
        void handling.finally(() => this.handling.delete(handling));
      },
    });
    this.subscriptions.add(subscription);
    return () => {
      if (!this.subscriptions.delete(subscription)) return;
      if (!this.closed && !subscription.isClosed()) subscription.unsubscribe();
    };
  }

  /** What ServerNats.handleMessage does for a @MessagePattern handler. */
  private async serve(subject: string, msg: Msg, handler: (payload: unknown) => unknown): Promise<void> {
    let packet: { id?: string; data?: unknown };
    try {
      packet = await this.deserializer.deserialize(msg, { channel: subject, replyTo: msg.reply });
    } catch (error) {
      return this.logger.error(`undecodable message on ${subject}: ${messageOf(error)}`);
    }
    let reply: { response?: unknown; err?: unknown };
    try {
      reply = { response: await handler(packet.data) };
    } catch (error) {
      // The shape Nest's RPC exception filter gives a failure; the bus carries only the message.
      reply = { err: { status: 'error', message: messageOf(error) } };
    }
    // Like ServerNats, a packet without an id (an event) or without an inbox gets no answer.
    if (packet.id === undefined || !msg.reply) return;
    this.respond(subject, msg, { ...reply, isDisposed: true, id: packet.id });
  }

  private respond(subject: string, msg: Msg, packet: { response?: unknown; err?: unknown; isDisposed: true; id: string }): void {
    let wire: string;
    try {
      wire = JSON.stringify(packet);
    } catch (error) {
      wire = JSON.stringify({ err: { status: 'error', message: messageOf(error) }, isDisposed: true, id: packet.id });
    }
    try {
      msg.respond(wire);
    } catch (error) {
      // The connection closed while the handler ran: nobody can get the reply any more.
      this.logger.warn(`reply on ${subject} dropped: ${messageOf(error)}`);
    }
  }

  /** What ServerNats.handleEvent does for an @EventPattern handler: a failure has nobody to go to. */
  private async notify(subject: string, msg: Msg, handler: (payload: unknown) => unknown): Promise<void> {
    try {
      const packet: { data?: unknown } = await this.deserializer.deserialize(msg, { channel: subject, replyTo: msg.reply });
      await handler(packet.data);
    } catch (error) {
      this.logger.error(`subscriber of ${subject} failed: ${messageOf(error)}`);
    }
  }

  private toBusError(subject: string, error: unknown): unknown {
    if (error instanceof BusTimeoutError || error instanceof BusNoResponderError) return error;
    if (error instanceof RemoteFailure) return new BusRemoteError(subject, messageOf(error.err));
    if (this.closed) return new Error(CONNECTION_CLOSED);
    if (error instanceof Error) return error;
    return new Error(`request on ${subject} failed: ${messageOf(error)}`);
  }

  /** Fails the requests in flight when the connection drops (their replies are lost with it). */
  private async followConnection(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') {
        this.logger.error('NATS connection lost: requests fail until it is back');
        this.connected = false;
        this.replies.failAll(new Error('the NATS connection dropped before the reply came'));
      } else if (status.type === 'reconnect') {
        this.logger.log('NATS connection back');
        this.connected = true;
      }
    }
  }

  private assertOpen(): void {
    if (this.closed || this.connection.isClosed()) throw new Error(CONNECTION_CLOSED);
  }
}
