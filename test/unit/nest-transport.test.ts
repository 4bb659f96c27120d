import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Ctx,
  EventPattern,
  MessagePattern,
  type MicroserviceOptions,
  Payload,
  RpcException,
} from '@nestjs/microservices';
import { firstValueFrom, from, type Observable } from 'rxjs';
import type { INestMicroservice } from '@nestjs/common';
import { InProcessBroker, InProcessBus } from '../../infra/bus/inproc.js';
import { BusContext, BusTransportServer } from '../../infra/bus/nest-transport.js';
import { BusNoResponderError, BusRemoteError } from '../../infra/bus/port.js';
import { eventually, sleep } from '../support/eventually.js';

@Controller()
class TestController {
  readonly events: unknown[] = [];
  requests = 0;

  @MessagePattern('test.sum')
  sum(@Payload() data: { a: number; b: number }): { sum: number } {
    this.requests++;
    return { sum: data.a + data.b };
  }

  @MessagePattern('test.greet')
  async greet(@Payload() data: { name: string }): Promise<string> {
    await sleep(5);
    return `hello ${data.name}`;
  }

  @MessagePattern('test.count')
  count(): Observable<number> {
    return from([1, 2, 3]);
  }

  @MessagePattern('test.crash')
  crash(): never {
    throw new Error('internal detail that must not leak');
  }

  @MessagePattern('test.refuse')
  refuse(): never {
    throw new RpcException('bad credentials');
  }

  @MessagePattern('test.subject')
  subject(@Ctx() context: BusContext): string {
    return context.getSubject();
  }

  @EventPattern('test.happened')
  happened(@Payload() data: unknown): void {
    this.events.push(data);
  }
}

@Module({ controllers: [TestController] })
class TestModule {}

describe('BusTransportServer', () => {
  let broker: InProcessBroker;
  let client: InProcessBus;
  const apps: INestMicroservice[] = [];
  const buses: InProcessBus[] = [];

  async function startService(): Promise<INestMicroservice> {
    const bus = new InProcessBus(broker);
    buses.push(bus);
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(TestModule, {
      strategy: new BusTransportServer(bus, 'test-service'),
      logger: false,
    });
    apps.push(app);
    await app.listen();
    return app;
  }

  beforeEach(() => {
    broker = new InProcessBroker();
    client = new InProcessBus(broker);
    buses.push(client);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  it('serves a synchronous @MessagePattern handler', async () => {
    await startService();
    await expect(client.request('test.sum', { a: 2, b: 3 })).resolves.toEqual({ sum: 5 });
  });

  it('serves an async handler', async () => {
    await startService();
    await expect(client.request('test.greet', { name: 'ada' })).resolves.toBe('hello ada');
  });

  it('replies with the last value of an Observable', async () => {
    await startService();
    await expect(client.request('test.count', null)).resolves.toBe(3);
  });

  it('hides an unexpected exception behind Nest’s generic message', async () => {
    await startService();
    const error = await client.request('test.crash', null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusRemoteError);
    expect((error as Error).message).toBe('Internal server error');
  });

  it('passes on the message of an RpcException', async () => {
    await startService();
    const error = await client.request('test.refuse', null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusRemoteError);
    expect((error as Error).message).toBe('bad credentials');
  });

  it('gives handlers the subject through @Ctx()', async () => {
    await startService();
    await expect(client.request('test.subject', null)).resolves.toBe('test.subject');
  });

  it('delivers published events to @EventPattern handlers', async () => {
    const app = await startService();
    await client.publish('test.happened', { what: 'login', at: new Date('2024-01-02T03:04:05.000Z') });
    await eventually(() =>
      expect(app.get(TestController).events).toEqual([{ what: 'login', at: '2024-01-02T03:04:05.000Z' }]),
    );
  });

  it('spreads requests over instances of the same service', async () => {
    const instances = [await startService(), await startService()];
    for (let i = 0; i < 10; i++) await client.request('test.sum', { a: i, b: 1 });
    const counts = instances.map((app) => app.get(TestController).requests);
    expect(counts).toEqual([5, 5]);
  });

  it('reports connected, and exposes the bus through unwrap()', async () => {
    const bus = new InProcessBus(broker);
    buses.push(bus);
    const server = new BusTransportServer(bus, 'test-service');
    await expect(new Promise((resolve) => server.listen(resolve))).resolves.toBeUndefined();
    expect(await firstValueFrom(server.status)).toBe('connected');
    expect(server.unwrap<InProcessBus>()).toBe(bus);
    server.close();
    expect(await firstValueFrom(server.status)).toBe('disconnected');
  });

  it('withdraws its handlers and subscriptions on close, leaving the bus open', async () => {
    const app = await startService();
    const controller = app.get(TestController);
    const bus = buses[buses.length - 1]!;
    await app.close();
    apps.splice(0);

    await expect(client.request('test.sum', { a: 1, b: 1 })).rejects.toBeInstanceOf(BusNoResponderError);
    await client.publish('test.happened', 'late');
    await sleep(30);
    expect(controller.events).toEqual([]);
    bus.handle('still.open', 'q', () => 'yes');
    await expect(client.request('still.open', null)).resolves.toBe('yes');
  });
});
