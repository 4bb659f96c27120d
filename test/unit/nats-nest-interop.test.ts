import 'reflect-metadata';
import { Controller, type INestMicroservice, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  type ClientProxy,
  ClientProxyFactory,
  Ctx,
  EventPattern,
  MessagePattern,
  type MicroserviceOptions,
  NatsContext,
  Payload,
  RpcException,
  Transport,
} from '@nestjs/microservices';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { firstValueFrom, interval, map, type Observable, take } from 'rxjs';
import { NatsBus } from '../../infra/bus/nats.js';
import { natsMicroserviceOptions } from '../../infra/bus/nats-microservice.js';
import { BusTransportServer } from '../../infra/bus/nest-transport.js';
import { BusNoResponderError, BusRemoteError, BusTimeoutError } from '../../infra/bus/port.js';
import { startNats, type TestServer } from '../support/servers.js';
import { eventually, sleep } from '../support/eventually.js';

// ClientNats logs every connection close; failures under test are expected.
Logger.overrideLogger(false);

async function timed<T>(work: Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const start = Date.now();
  try {
    const value = await work;
    return { value, ms: Date.now() - start };
  } catch (error) {
    return { error, ms: Date.now() - start };
  }
}

@Controller()
class SvcController {
  handled = 0;
  readonly events: unknown[] = [];

  @MessagePattern('idp.svc.sum')
  sum(@Payload() data: { a: number; b: number }): { sum: number } {
    this.handled++;
    return { sum: data.a + data.b };
  }

  @MessagePattern('idp.svc.greet')
  async greet(@Payload() data: { name: string }): Promise<string> {
    await sleep(5);
    return `hello ${data.name}`;
  }

  @MessagePattern('idp.svc.count')
  count(): Observable<number> {
    // Three replies on the wire, 5 ms apart.
    return interval(5).pipe(
      take(3),
      map((i) => i + 1),
    );
  }

  @MessagePattern('idp.svc.echo')
  echo(@Payload() data: unknown): unknown {
    return { got: data === undefined ? 'undefined' : data };
  }

  @MessagePattern('idp.svc.nothing')
  nothing(): void {}

  @MessagePattern('idp.svc.refuse')
  refuse(): never {
    throw new RpcException('bad credentials');
  }

  @MessagePattern('idp.svc.crash')
  crash(): never {
    throw new Error('internal detail that must not leak');
  }

  @MessagePattern('idp.svc.never')
  never(): Promise<never> {
    return new Promise(() => {});
  }

  @MessagePattern('idp.svc.slow')
  async slow(): Promise<string> {
    await sleep(80);
    return 'done';
  }

  @MessagePattern('idp.svc.subject')
  subject(@Ctx() context: NatsContext): string {
    return context.getSubject();
  }

  @EventPattern('idp.svc.happened')
  happened(@Payload() data: unknown): void {
    this.events.push(data);
  }
}

@Module({ controllers: [SvcController] })
class SvcModule {}

describe('NatsBus and Nest microservices over NATS', () => {
  let nats: TestServer;
  let bus: NatsBus;
  const apps: INestMicroservice[] = [];
  const buses: NatsBus[] = [];
  const clients: ClientProxy[] = [];
  const raws: NatsConnection[] = [];

  /** Another process's connection. */
  async function connectBus(): Promise<NatsBus> {
    const connection = await NatsBus.connect(nats.url, { name: 'interop' });
    buses.push(connection);
    return connection;
  }

  async function nestClient(): Promise<ClientProxy> {
    const client = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [nats.url] } });
    clients.push(client);
    await client.connect();
    return client;
  }

  async function rawConnection(): Promise<NatsConnection> {
    const connection = await connect({ servers: [nats.url] });
    raws.push(connection);
    return connection;
  }

  /**
   * A Nest NATS microservice, as a service process runs it. listen() resolves before the NATS
   * server has taken its subscriptions in: a flush makes sure it has, so that a request from
   * another connection cannot overtake them.
   */
  async function startService(gracePeriodMs = 20): Promise<INestMicroservice> {
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(SvcModule, {
      ...natsMicroserviceOptions(nats.url, 'svc', { gracePeriodMs }),
      logger: false,
    });
    apps.push(app);
    await app.listen();
    await app.unwrap<NatsConnection>().flush();
    return app;
  }

  /** The same controllers served by BusTransportServer over a NatsBus. */
  async function startBusService(): Promise<INestMicroservice> {
    const serverBus = await connectBus();
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(SvcModule, {
      strategy: new BusTransportServer(serverBus, 'svc'),
      logger: false,
    });
    apps.push(app);
    await app.listen();
    await serverBus.flush();
    return app;
  }

  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
    await nats.stop();
  });
  beforeEach(async () => {
    bus = await connectBus();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(buses.splice(0).map((connection) => connection.close()));
    await Promise.all(raws.splice(0).map((connection) => connection.close()));
  });

  describe('a NatsBus requesting a Nest NATS microservice', () => {
    it('gets the reply of a synchronous handler', async () => {
      await startService();
      await expect(bus.request('idp.svc.sum', { a: 2, b: 3 })).resolves.toEqual({ sum: 5 });
    });

    it('gets the reply of an async handler', async () => {
      await startService();
      await expect(bus.request('idp.svc.greet', { name: 'ada' })).resolves.toBe('hello ada');
    });

    it('gets the last value of an Observable that replies several times', async () => {
      await startService();
      await expect(bus.request('idp.svc.count', {})).resolves.toBe(3);
    });

    it('sends null and undefined payloads, which ClientProxy.send alone refuses', async () => {
      await startService();
      await expect(bus.request('idp.svc.echo', null)).resolves.toEqual({ got: null });
      await expect(bus.request('idp.svc.echo', undefined)).resolves.toEqual({ got: 'undefined' });
    });

    it('gets undefined from a handler that returns nothing', async () => {
      await startService();
      await expect(bus.request('idp.svc.nothing', {})).resolves.toBeUndefined();
    });

    it('gets an RpcException as BusRemoteError with its message', async () => {
      await startService();
      const error = await bus.request('idp.svc.refuse', {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BusRemoteError);
      expect(error).toMatchObject({ message: 'bad credentials', subject: 'idp.svc.refuse' });
    });

    it('gets any other exception as Nest’s generic BusRemoteError', async () => {
      await startService();
      const error = await bus.request('idp.svc.crash', {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BusRemoteError);
      expect((error as Error).message).toBe('Internal server error');
    });

    it('times out on a handler that never answers', async () => {
      await startService();
      const { error, ms } = await timed(bus.request('idp.svc.never', {}, { timeoutMs: 100 }));
      expect(error).toBeInstanceOf(BusTimeoutError);
      expect(ms).toBeGreaterThanOrEqual(90); // it waited for its timeout, not less
    });

    it('gives handlers the subject through NatsContext', async () => {
      await startService();
      await expect(bus.request('idp.svc.subject', {})).resolves.toBe('idp.svc.subject');
    });

    it('delivers a published event to @EventPattern handlers', async () => {
      const app = await startService();
      await bus.publish('idp.svc.happened', { what: 'login', at: new Date('2024-01-02T03:04:05.000Z') });
      await eventually(() =>
        expect(app.get(SvcController).events).toEqual([{ what: 'login', at: '2024-01-02T03:04:05.000Z' }]),
      );
    });

    it('delivers an event to one instance of the service only (ServerNats queues event handlers too)', async () => {
      const instances = [await startService(), await startService()];
      for (let i = 0; i < 10; i++) await bus.publish('idp.svc.happened', i);
      await eventually(() =>
        expect(instances.flatMap((app) => app.get(SvcController).events).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      );
      await sleep(20);
      expect(instances.flatMap((app) => app.get(SvcController).events)).toHaveLength(10);
    });

    it('spreads requests over two instances in the same queue group, each answered once', async () => {
      const instances = [await startService(), await startService()];
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => bus.request<{ sum: number }>('idp.svc.sum', { a: i, b: 1 })),
      );
      await sleep(20);

      expect(replies.map((reply) => reply.sum)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const counts = instances.map((app) => app.get(SvcController).handled);
      expect(counts[0]! + counts[1]!).toBe(20);
      expect(counts.every((n) => n > 0)).toBe(true);
    });

    it('fails fast with BusNoResponderError once the microservice stopped', async () => {
      const app = await startService();
      await expect(bus.request('idp.svc.sum', { a: 1, b: 1 })).resolves.toEqual({ sum: 2 });
      await app.close();
      apps.splice(0);

      const { error } = await timed(bus.request('idp.svc.sum', { a: 1, b: 1 }, { timeoutMs: 2000 }));
      expect(error).toBeInstanceOf(BusNoResponderError);
      // No responder, not a timeout: the error type says the request did not wait its 2 s.
      expect((error as BusNoResponderError).subject).toBe('idp.svc.sum');
    });

    it('shuts down gracefully: refuses new requests at once, answers those in flight', async () => {
      const app = await startService(200);
      const connection = app.unwrap<NatsConnection>();
      const inFlight = timed(bus.request('idp.svc.slow', {}, { timeoutMs: 2000 }));
      await sleep(20);

      const closing = app.close();
      apps.splice(0);
      await connection.flush(); // the unsubscriptions have reached the server
      const refused = await timed(bus.request('idp.svc.sum', { a: 1, b: 1 }, { timeoutMs: 2000 }));
      // Refused as having no responder (not a BusTimeoutError after its 2 s): at once.
      expect(refused.error).toBeInstanceOf(BusNoResponderError);

      await expect(inFlight).resolves.toMatchObject({ value: 'done' });
      await closing;
    });
  });

  describe('NatsBus.handle and subscribe, as a Nest ServerNats would answer', () => {
    it('answers a Nest ClientProxy, with replies and errors in Nest’s shape', async () => {
      const server = await connectBus();
      server.handle('idp.peer.sum', 'peer', (payload) => {
        const { a, b } = payload as { a: number; b: number };
        return { sum: a + b };
      });
      server.handle('idp.peer.refuse', 'peer', () => {
        throw new Error('bad credentials');
      });
      await server.flush();
      const client = await nestClient();

      await expect(firstValueFrom(client.send('idp.peer.sum', { a: 4, b: 5 }))).resolves.toEqual({ sum: 9 });
      await expect(firstValueFrom(client.send('idp.peer.refuse', {}))).rejects.toEqual({
        status: 'error',
        message: 'bad credentials',
      });
    });

    it('receives the events a Nest ClientProxy emits', async () => {
      const server = await connectBus();
      const got: unknown[] = [];
      server.subscribe('idp.peer.happened', (payload) => void got.push(payload));
      await server.flush();
      const client = await nestClient();

      await firstValueFrom(client.emit('idp.peer.happened', { what: 'logout' }), { defaultValue: undefined });
      await eventually(() => expect(got).toEqual([{ what: 'logout' }]));
    });

    it('speaks Nest’s packets on the wire', async () => {
      const raw = await rawConnection();
      const seen: unknown[] = [];
      raw.subscribe('idp.raw.ask', {
        callback: (_error, msg) => {
          const packet = msg.json<{ id: string }>();
          seen.push(packet);
          msg.respond(JSON.stringify({ id: packet.id, response: { from: 'raw' }, isDisposed: true }));
        },
      });
      await raw.flush();
      await expect(bus.request('idp.raw.ask', { q: 1 })).resolves.toEqual({ from: 'raw' });
      expect(seen).toEqual([{ pattern: 'idp.raw.ask', data: { q: 1 }, id: expect.any(String) }]);

      bus.handle('idp.raw.answer', 'svc', (payload) => ({ echo: payload }));
      bus.handle('idp.raw.fail', 'svc', () => {
        throw new Error('nope');
      });
      await bus.flush();
      const ask = async (subject: string) =>
        (await raw.request(subject, JSON.stringify({ pattern: subject, data: { q: 2 }, id: 'x1' }), { timeout: 500 })).json();
      await expect(ask('idp.raw.answer')).resolves.toEqual({ response: { echo: { q: 2 } }, isDisposed: true, id: 'x1' });
      await expect(ask('idp.raw.fail')).resolves.toEqual({ err: { status: 'error', message: 'nope' }, isDisposed: true, id: 'x1' });
    });
  });

  describe('NatsBus itself', () => {
    it('answers a ping while connected, and refuses it once closed', async () => {
      await expect(bus.ping()).resolves.toBeUndefined();
      await bus.close();
      await expect(bus.ping()).rejects.toThrow('bus connection closed');
      await expect(bus.request('idp.svc.sum', {})).rejects.toThrow('bus connection closed');
      await expect(bus.publish('idp.svc.happened', {})).rejects.toThrow('bus connection closed');
      expect(() => bus.handle('idp.svc.sum', 'svc', () => 1)).toThrow('bus connection closed');
    });
  });

  describe('BusTransportServer over a NatsBus', () => {
    it('serves the same controllers, interchangeably with ServerNats in one queue group', async () => {
      const instances = [await startService(), await startBusService()];
      const client = await nestClient();

      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => bus.request<{ sum: number }>('idp.svc.sum', { a: i, b: 0 })),
      );
      expect(replies.map((reply) => reply.sum)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      const counts = instances.map((app) => app.get(SvcController).handled);
      expect(counts[0]! + counts[1]!).toBe(20);
      expect(counts.every((n) => n > 0)).toBe(true);

      // Both kinds of instance answer a Nest client, and fail, alike.
      for (let i = 0; i < 6; i++) {
        await expect(firstValueFrom(client.send('idp.svc.greet', { name: 'bo' }))).resolves.toBe('hello bo');
        await expect(firstValueFrom(client.send('idp.svc.refuse', {}))).rejects.toEqual({
          status: 'error',
          message: 'bad credentials',
        });
        const error = await bus.request('idp.svc.crash', {}).catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'BusRemoteError', message: 'Internal server error' });
      }
    });

    it('withdraws on close, and the NatsBus then reports no responder', async () => {
      const app = await startBusService();
      await expect(bus.request('idp.svc.count', {})).resolves.toBe(3);
      const serverBus = app.unwrap<NatsBus>();
      await app.close();
      apps.splice(0);
      await serverBus.flush();

      const { error } = await timed(bus.request('idp.svc.sum', { a: 1, b: 1 }, { timeoutMs: 2000 }));
      expect(error).toBeInstanceOf(BusNoResponderError);
    });
  });
});
