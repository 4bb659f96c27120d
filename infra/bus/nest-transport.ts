import {
  BaseRpcContext,
  type CustomTransportStrategy,
  type MessageHandler,
  Server,
  type WritePacket,
} from '@nestjs/microservices';
import { type Observable, throwError } from 'rxjs';
import type { DirectHandler } from './direct-handlers.js';
import type { Bus } from './port.js';

/** What a handler can ask about the message it serves (inject with `@Ctx()`). */
export class BusContext extends BaseRpcContext<[subject: string]> {
  getSubject(): string {
    return this.args[0];
  }
}

/**
 * Nest's RPC exception filter turns failures into plain objects ({ status, message }), and an
 * RpcException may carry a bare string; the bus only carries a message, so make it an Error.
 */
function toError(error: unknown): Error {
  if (error instanceof Error) return error;
  if (typeof error === 'string') return new Error(error);
  const message = (error as { message?: unknown } | null)?.message;
  return new Error(typeof message === 'string' ? message : JSON.stringify(error));
}

/**
 * Serves a Nest microservice's @MessagePattern handlers as a member of queue group `queue`,
 * and its @EventPattern handlers as subscribers, over any Bus (the subject is the pattern).
 * The bus belongs to the caller: close() only withdraws the handlers.
 */
export class BusTransportServer extends Server implements CustomTransportStrategy {
  private removals: Array<() => void> = [];
  private direct = new Map<string, DirectHandler>();

  constructor(
    private readonly bus: Bus,
    private readonly queue: string,
  ) {
    super();
  }

  /**
   * Serves these subjects by calling the controller's method with the payload, past Nest's RPC
   * pipeline (the embedded mode, issue 12; see direct-handlers.ts). Call before listen(); each
   * subject must be one of the microservice's own @MessagePattern handlers.
   */
  serveDirectly(handlers: Map<string, DirectHandler>): void {
    this.direct = handlers;
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    try {
      for (const subject of this.direct.keys()) {
        if (!this.messageHandlers.has(subject)) throw new Error(`no @MessagePattern handler for ${subject} to serve directly`);
      }
      for (const [subject, handler] of this.messageHandlers) {
        const direct = this.direct.get(subject);
        // Like ServerNats, a handler may pick its own queue group: @MessagePattern(s, { queue }).
        const queue = handler.extras?.['queue'] ?? this.queue;
        this.removals.push(
          handler.isEventHandler
            ? this.bus.subscribe(subject, (payload) => this.onEvent(subject, payload))
            : direct
              ? this.bus.handle(subject, queue, direct)
              : this.bus.handle(subject, queue, (payload) => this.onRequest(subject, handler, payload)),
        );
      }
    } catch (error) {
      this.close();
      callback(error);
      return;
    }
    this._status$.next('connected');
    callback();
  }

  close(): void {
    for (const remove of this.removals) remove();
    this.removals = [];
    this._status$.next('disconnected');
  }

  on(): never {
    throw new Error('BusTransportServer emits no events');
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  private async onEvent(subject: string, payload: unknown): Promise<void> {
    try {
      await this.handleEvent(subject, { pattern: subject, data: payload }, new BusContext([subject]));
    } catch (error) {
      this.logger.error(error);
    }
  }

  /** Replies with the last value the handler's result (value, Promise or Observable) yields. */
  private onRequest(subject: string, handler: MessageHandler, payload: unknown): Promise<unknown> {
    const context = new BusContext([subject]);
    const produce = async (): Promise<Observable<unknown>> => {
      try {
        return this.transformToObservable(await handler(payload, context));
      } catch (error) {
        return throwError(() => error);
      }
    };
    return new Promise((resolve, reject) => {
      let last: unknown;
      this.handleRequest(context, produce, (packet: WritePacket) => {
        if ('err' in packet) return reject(toError(packet.err));
        if ('response' in packet) last = packet.response;
        if (packet.isDisposed) resolve(last);
      });
    });
  }
}
