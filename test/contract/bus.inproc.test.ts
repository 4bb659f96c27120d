import { jest } from '@jest/globals';
import { InProcessBroker, InProcessBus } from '../../infra/bus/inproc.js';
import { BusTimeoutError, DEFAULT_REQUEST_TIMEOUT_MS } from '../../infra/bus/port.js';
import { describeBusContract } from './bus.contract.js';

describeBusContract('in-process', async () => {
  const broker = new InProcessBroker();
  const connections: InProcessBus[] = [];
  return {
    async connect() {
      const bus = new InProcessBus(broker);
      connections.push(bus);
      return bus;
    },
    async cleanup() {
      await Promise.all(connections.map((bus) => bus.close()));
    },
  };
});

describe('InProcessBus', () => {
  let broker: InProcessBroker;
  let client: InProcessBus;
  let server: InProcessBus;

  beforeEach(() => {
    broker = new InProcessBroker();
    client = new InProcessBus(broker);
    server = new InProcessBus(broker);
  });
  afterEach(async () => {
    jest.useRealTimers();
    await Promise.all([client.close(), server.close()]);
  });

  it('drops a message still on its way when the receiver unsubscribes', async () => {
    const seen: unknown[] = [];
    const unhandle = server.handle('work', 'svc', (payload) => void seen.push(payload));
    const unsubscribe = server.subscribe('news', (payload) => void seen.push(payload));

    const request = client.request('work', 'request', { timeoutMs: 100 });
    await client.publish('news', 'event');
    unhandle();
    unsubscribe();

    await expect(request).rejects.toBeInstanceOf(BusTimeoutError);
    expect(seen).toEqual([]);
  });

  it('drops the reply of a handler whose connection closed meanwhile', async () => {
    let started = false;
    server.handle('slow', 'svc', async () => {
      started = true;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 'too late';
    });
    const request = client.request('slow', null, { timeoutMs: 150 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(started).toBe(true);

    await server.close();

    await expect(request).rejects.toBeInstanceOf(BusTimeoutError);
  });

  it(`times a request out after ${DEFAULT_REQUEST_TIMEOUT_MS} ms by default`, async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    server.handle('stuck', 'svc', () => new Promise(() => {}));
    let outcome: unknown = 'pending';
    client.request('stuck', null).catch((error: unknown) => (outcome = error));

    await jest.advanceTimersByTimeAsync(DEFAULT_REQUEST_TIMEOUT_MS - 1);
    expect(outcome).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(outcome).toBeInstanceOf(BusTimeoutError);
    expect(outcome).toMatchObject({ timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS });
  });
});
