import { Logger } from '@nestjs/common';
import {
  ClientNats,
  NatsRecord,
  NatsRequestJSONDeserializer,
  type NatsOptions,
  type PacketId,
  type ReadPacket,
  type WritePacket,
} from '@nestjs/microservices';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { catchError, firstValueFrom, last, type Observable, throwError, timeout } from 'rxjs';
import {
  type Bus,
  type BusRequestOptions,
  BusNoResponderError,
  BusRemoteError,
  BusTimeoutError,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './port.js';
import type { NatsConnectionOptions } from './nats-connection-options.js';

/**
 * NATS adapter of the bus port, speaking the wire format of @nestjs/microservices:
 * - a request is the JSON packet `{ pattern, data, id }` published on the subject with a reply
 *   inbox; every reply is `{ id, response?, err?, isDisposed? }`, the last one `isDisposed`;
 * - an event is `{ pattern, data }` (no id, no reply);
 * - the subject is the pattern, a service's handlers form a queue group.
 *
 * Requests and events go through Nest's own ClientNats (a ClientProxy); handlers and subscribers
 * are plain subscriptions that answer as Nest's ServerNats does, so a Nest NATS microservice and
 * NatsBus.handle (or a BusTransportServer over a NatsBus) are interchangeable responders.
 *
 * Everything runs on one NATS connection, so what one NatsBus does reaches the server in order:
 * a handler registered (or withdrawn) before a request on the same bus is in place (or gone)
 * when that request arrives.
 */

/** A failure a remote responder sent back (anything else that fails a request is local). */
class RemoteFailure {
  constructor(readonly err: unknown) {}
}

/** What requests fail with once the bus is closed (pending ones included). */
const CONNECTION_CLOSED = 'bus connection closed';

type NatsMsg = Record<string, any>;

/**
 * ClientNats on a connection it shares with the handlers, which marks what came from the
 * remote side and turns the server's "no responders" status (503) into BusNoResponderError.
 */
class SharedConnectionClientNats extends ClientNats {
  constructor(
    private readonly connection: NatsConnection,
    options: Required<NatsOptions>['options'],
  ) {
    super(options);
  }

  override async createClient(): Promise<NatsConnection> {
    return this.connection;
  }

  override createSubscriptionHandler(
    packet: ReadPacket & PacketId,
    callback: (packet: WritePacket) => any,
  ): (error: Error | null, natsMsg: NatsMsg) => Promise<any> {
    const handle = super.createSubscriptionHandler(packet, (reply: WritePacket) =>
      // Errors decoded from a reply are plain JSON; errors of the connection are Error objects.
      callback(reply.err !== undefined && !(reply.err instanceof Error) ? { ...reply, err: new RemoteFailure(reply.err) } : reply),
    );
    return async (error, natsMsg) => {
      // ClientNats would report it as an EmptyResponseException, like any empty reply.
      if (!error && natsMsg?.data?.length === 0 && natsMsg.headers?.code === 503) {
        return callback({ err: new BusNoResponderError(String(packet.pattern)), isDisposed: true });
      }
      return handle(error, natsMsg);
    };
  }
}

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

/**
 * Nest's ClientProxy refuses a null or undefined payload (InvalidMessageException); a
 * NatsRecord carries any value, and NatsRecordSerializer puts exactly that value on the wire.
 */
const record = (payload: unknown) => new NatsRecord(payload, undefined);

export class NatsBus implements Bus {
  private readonly logger = new Logger(NatsBus.name);
  private readonly deserializer = new NatsRequestJSONDeserializer();
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly client: SharedConnectionClientNats,
  ) {}

  /** `connection`: the identity's credentials, inbox prefix and TLS (nats-connection-options.ts). */
  static async connect(url: string, options: { name?: string; connection?: NatsConnectionOptions } = {}): Promise<NatsBus> {
    const connection = await connect({
      ...options.connection,
      servers: [url],
      ...(options.name ? { name: options.name } : {}),
      // A process outlives a NATS outage: keep reconnecting (nats.js gives up after 10 tries).
      maxReconnectAttempts: -1,
    });
    const client = new SharedConnectionClientNats(connection, {
      servers: [url],
      ...(options.name ? { name: options.name } : {}),
      // ClientNats makes the reply inboxes itself: they must carry the identity's prefix.
      ...(options.connection?.inboxPrefix ? { inboxPrefix: options.connection.inboxPrefix } : {}),
    });
    try {
      await client.connect();
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
    return new NatsBus(connection, client);
  }

  async request<TReply = unknown>(subject: string, payload: unknown, options: BusRequestOptions = {}): Promise<TReply> {
    this.assertOpen();
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const replies: Observable<TReply> = this.client.send<TReply>(subject, record(payload));
    return firstValueFrom(
      replies.pipe(
        // A handler returning an Observable replies once per value: the answer is the last one
        // (undefined when it sent none, as when the handler returned undefined).
        last(null, undefined as TReply),
        // Placed after last(), `first` bounds the whole exchange, not only its first reply.
        timeout({ first: timeoutMs, with: () => throwError(() => new BusTimeoutError(subject, timeoutMs)) }),
        catchError((error: unknown) => throwError(() => this.toBusError(subject, error))),
      ),
    );
  }

  async publish(subject: string, payload: unknown): Promise<void> {
    this.assertOpen();
    // Resolves once the event is handed to the connection: fire-and-forget, at most once.
    await firstValueFrom(this.client.emit(subject, record(payload)), { defaultValue: undefined });
  }

  handle(subject: string, queue: string, handler: (payload: unknown) => Promise<unknown> | unknown): () => void {
    return this.register(subject, queue, (msg) => this.serve(subject, msg, handler));
  }

  subscribe(subject: string, handler: (payload: unknown) => Promise<void> | void): () => void {
    return this.register(subject, undefined, (msg) => this.notify(subject, msg, handler));
  }

  /**
   * Fails the requests still waiting for a reply, then drains the connection: the handlers and
   * subscribers leave, messages already received are still handled, what was already sent
   * (replies included) is flushed, and the connection closes. A reply produced after that is lost.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.client.handleClose();
      this.subscriptions.clear();
      this.closing = this.connection.isClosed() ? Promise.resolve() : this.connection.drain().catch(() => {});
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

  private register(subject: string, queue: string | undefined, onMessage: (msg: Msg) => Promise<void>): () => void {
    this.assertOpen();
    const subscription = this.connection.subscribe(subject, {
      ...(queue === undefined ? {} : { queue }),
      callback: (error, msg) => {
        if (error) return this.logger.error(`subscription to ${subject} failed: ${messageOf(error)}`);
        void onMessage(msg);
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
    // ClientNats fails requests with a string while its connection is lost and reconnecting.
    return new Error(`request on ${subject} failed: ${messageOf(error)}`);
  }

  private assertOpen(): void {
    if (this.closed || this.connection.isClosed()) throw new Error(CONNECTION_CLOSED);
  }
}
