import 'reflect-metadata';
import {
  type CallHandler,
  type CanActivate,
  Controller,
  type ExecutionContext,
  type INestMicroservice,
  Module,
  type NestInterceptor,
  type PipeTransform,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import { directHandlersOf } from '../../infra/bus/direct-handlers.js';
import { InProcessBroker, InProcessBus } from '../../infra/bus/inproc.js';
import { BusTransportServer } from '../../infra/bus/nest-transport.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { createLogger } from '../../infra/log/logger.js';
import { ClientRegistryMessageController } from '../../services/client-registry/adapters/client-registry.message.controller.js';
import { ClientRegistryModule } from '../../services/client-registry/adapters/client-registry.module.js';

class Allow implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}
class Trim implements PipeTransform {
  transform(value: unknown): unknown {
    return value;
  }
}
/** Counts the requests that went through Nest's pipeline. */
class Counting implements NestInterceptor {
  static seen = 0;
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    Counting.seen++;
    return next.handle();
  }
}

@Controller()
class PlainController {
  @MessagePattern('t.sum')
  sum(@Payload() data: { a: number; b: number }) {
    return { sum: data.a + data.b };
  }

  @MessagePattern('t.echo')
  async echo(@Payload() data: unknown) {
    return { echoed: data, by: this.constructor.name };
  }
}

@Module({ controllers: [PlainController] })
class PlainModule {}

describe('direct handlers: message controllers called past Nest RPC pipeline (embedded mode)', () => {
  it('maps each @MessagePattern subject to its method, bound to the controller', async () => {
    const handlers = directHandlersOf(new PlainController());
    expect([...handlers.keys()].sort()).toEqual(['t.echo', 't.sum']);
    await expect(handlers.get('t.echo')!({ x: 1 })).resolves.toEqual({ echoed: { x: 1 }, by: 'PlainController' });
  });

  it.each([
    ['a guard on a method', () => {
      @Controller()
      class C {
        @MessagePattern('t.a')
        @UseGuards(Allow)
        a(@Payload() p: unknown) {
          return p;
        }
      }
      return new C();
    }, /a has __guards__/],
    ['an interceptor on the class', () => {
      @Controller()
      @UseInterceptors(Counting)
      class C {
        @MessagePattern('t.a')
        a(@Payload() p: unknown) {
          return p;
        }
      }
      return new C();
    }, /the class has __interceptors__/],
    ['pipes on a method', () => {
      @Controller()
      class C {
        @MessagePattern('t.a')
        @UsePipes(Trim)
        a(@Payload() p: unknown) {
          return p;
        }
      }
      return new C();
    }, /a has __pipes__/],
    ['a pipe on the payload', () => {
      @Controller()
      class C {
        @MessagePattern('t.a')
        a(@Payload(Trim) p: unknown) {
          return p;
        }
      }
      return new C();
    }, /more than a bare @Payload/],
    ['a payload property', () => {
      @Controller()
      class C {
        @MessagePattern('t.a')
        a(@Payload('field') p: unknown) {
          return p;
        }
      }
      return new C();
    }, /more than a bare @Payload/],
    ['the context as a parameter', () => {
      @Controller()
      class C {
        @MessagePattern('t.a')
        a(@Payload() p: unknown, @Ctx() context: unknown) {
          return [p, context];
        }
      }
      return new C();
    }, /more than a bare @Payload/],
    ['no parameter at all', () => {
      @Controller()
      class C {
        @MessagePattern('t.a')
        a() {
          return 1;
        }
      }
      return new C();
    }, /more than a bare @Payload/],
    ['an event handler', () => {
      @Controller()
      class C {
        @EventPattern('t.a')
        a(@Payload() p: unknown) {
          return p;
        }
      }
      return new C();
    }, /a is not a @MessagePattern/],
    ['no message handler', () => {
      @Controller()
      class C {
        a(p: unknown) {
          return p;
        }
      }
      return new C();
    }, /no @MessagePattern method/],
  ])('refuses a controller with %s, so that nothing Nest would run is skipped', (_what, make, message) => {
    expect(() => directHandlersOf(make())).toThrow(message);
  });

  describe('BusTransportServer.serveDirectly', () => {
    const apps: INestMicroservice[] = [];
    const buses: InProcessBus[] = [];
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await Promise.all(buses.splice(0).map((bus) => bus.close()));
    });

    async function start(module: object, controller: new (...args: never[]) => object, direct: boolean, broker = new InProcessBroker()) {
      const strategy = new BusTransportServer(new InProcessBus(broker), 'q');
      const app = await NestFactory.createMicroservice(module as never, { strategy, logger: false });
      apps.push(app);
      app.useGlobalInterceptors(new Counting());
      if (direct) strategy.serveDirectly(directHandlersOf(app.get(controller)));
      await app.listen();
      const client = new InProcessBus(broker);
      buses.push(client);
      return { client, strategy };
    }

    it('gives the same replies as Nest pipeline, without running it', async () => {
      const viaNest = await start(PlainModule, PlainController, false);
      const direct = await start(PlainModule, PlainController, true);
      Counting.seen = 0;
      const payload = { a: 2, b: 40 };
      const fromNest = await viaNest.client.request('t.sum', payload);
      expect(Counting.seen).toBe(1);
      const fromDirect = await direct.client.request('t.sum', payload);
      expect(fromDirect).toEqual(fromNest);
      expect(fromDirect).toEqual({ sum: 42 });
      // The interceptor proves which path ran: only the Nest one counted.
      expect(Counting.seen).toBe(1);
    });

    it('serves a real service controller directly: every one of its subjects, the same contract answers', async () => {
      const module = ClientRegistryModule.forRoot({
        eventStore: new InMemoryEventStore(),
        projectionStore: new InMemoryProjectionStore(),
        logger: createLogger({ level: 'silent' }),
      });
      const { client, strategy } = await start(module, ClientRegistryMessageController, true);
      const served = [...strategy.getHandlers().keys()].sort();
      expect(served.length).toBeGreaterThan(2);
      expect([...directHandlersOf(apps[0]!.get(ClientRegistryMessageController)).keys()].sort()).toEqual(served);
      // A malformed request is answered by serve() as the contract says, as it is through Nest.
      const reply = (await client.request('idp.client-registry.get_client', { nonsense: true })) as { ok: boolean; error?: { code: string } };
      expect(reply.ok).toBe(false);
      expect(reply.error?.code).toBe('invalid_request');
    });

    it('refuses to listen when a direct subject is not one of the microservice handlers', async () => {
      const broker = new InProcessBroker();
      const strategy = new BusTransportServer(new InProcessBus(broker), 'q');
      const app = await NestFactory.createMicroservice(PlainModule, { strategy, logger: false });
      apps.push(app);
      strategy.serveDirectly(new Map([['t.unknown', () => 1]]));
      await expect(app.listen()).rejects.toThrow(/no @MessagePattern handler for t.unknown/);
    });
  });
});
