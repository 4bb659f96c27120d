import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { GetClient } from '../../contracts/messages/client-registry.js';
import { serve } from '../../infra/bus/typed.js';
import { NatsKvDataKeyStore } from '../../infra/crypto/data-keys/nats-kv.js';
import { DataKeysUnavailableError } from '../../infra/crypto/data-keys/port.js';
import { DependencyUnavailableError } from '../../infra/dependency-unavailable.js';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { EventStoreUnavailableError } from '../../infra/event-store/port.js';
import { ProjectionStoreUnavailableError } from '../../infra/projections/port.js';
import { RedisProjectionStore } from '../../infra/projections/redis.js';
import { startRestartableNats } from '../support/restartable-nats.js';
import { startRestartableRedis } from '../support/restartable-redis.js';

/**
 * A dependency that is down is reported as such by its adapter (real redis-server and
 * nats-server, stopped and started by the test), and the bus edge answers it with
 * temporarily_unavailable, not server_error: the client may retry. Once the server is back, the
 * same adapter instance works again.
 */
const ctx = { tenant: 'default', correlationId: 'unavailable', causationId: null, actor: { kind: 'system' as const, id: 'test' } };

describe('the bus edge', () => {
  it.each([
    ['the log', new EventStoreUnavailableError('down')],
    ['the projections', new ProjectionStoreUnavailableError('down')],
    ['the data keys', new DataKeysUnavailableError('down')],
  ])('answers %s being down with temporarily_unavailable, and logs the cause', async (_name, failure) => {
    const logged: unknown[] = [];
    const reply = await serve(GetClient, { ctx, clientId: 'c' }, () => Promise.reject(failure), (error) => logged.push(error));
    expect(reply).toMatchObject({ ok: false, error: { code: 'temporarily_unavailable', status: 503 } });
    expect(logged).toEqual([failure]);
  });

  it('answers any other failure with server_error, as before', async () => {
    const reply = await serve(GetClient, { ctx, clientId: 'c' }, () => Promise.reject(new TypeError('a bug')), () => {});
    expect(reply).toMatchObject({ ok: false, error: { code: 'server_error', status: 500 } });
  });
});

it('Redis stopped: reads and writes of the projection store fail as unavailable; started again: they work', async () => {
  const redis = await startRestartableRedis();
  const store = await RedisProjectionStore.connect(redis.url, { keyPrefix: `unavailable-${randomBytes(4).toString('hex')}:` });
  try {
    await store.apply([{ kind: 'put', key: 'k', value: 1 }], 1, 'p');
    await redis.stop();
    for (const attempt of [() => store.get('k'), () => store.checkpoint('p'), () => store.apply([{ kind: 'put', key: 'k', value: 2 }], 2, 'p'), () => store.ping()]) {
      await expect(attempt()).rejects.toBeInstanceOf(ProjectionStoreUnavailableError);
    }
    await redis.start();
    await expect(eventually(() => store.get('k'))).resolves.toBe(1);
  } finally {
    await store.close();
    await redis.destroy();
  }
}, 60_000);

it('Redis that does not answer: a command fails as unavailable after its deadline, not before, and the store works once Redis answers', async () => {
  const redis = await startRestartableRedis();
  const store = await RedisProjectionStore.connect(redis.url, { keyPrefix: `paused-${randomBytes(4).toString('hex')}:`, commandTimeoutMs: 400 });
  const admin = createClient({ url: redis.url });
  await admin.connect();
  try {
    await store.apply([{ kind: 'put', key: 'k', value: 1 }], 1, 'p');
    // The server keeps the connection and reads the commands, but answers none for 2.5 s.
    await admin.sendCommand(['CLIENT', 'PAUSE', '2500', 'ALL']);
    const started = performance.now();
    const outcomes = await Promise.allSettled([store.get('k'), store.checkpoint('p'), store.apply([{ kind: 'put', key: 'k', value: 2 }], 2, 'p')]);
    const waited = performance.now() - started;
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(ProjectionStoreUnavailableError);
      expect(String((outcome as PromiseRejectedResult).reason.message)).toMatch(/no answer within 400 ms/);
    }
    // Not before the deadline, and well before the pause ends (the deadline is checked every tenth of it).
    expect(waited).toBeGreaterThanOrEqual(395);
    expect(waited).toBeLessThan(2000);
    // Once Redis answers again, the write that timed out may have been applied: nothing else.
    await expect(eventually(() => store.get('k'))).resolves.toBeGreaterThanOrEqual(1);
    await expect(store.checkpoint('p')).resolves.toBeGreaterThanOrEqual(1);
  } finally {
    await admin.close().catch(() => {});
    await store.close();
    await redis.destroy();
  }
}, 60_000);

it('nats-server stopped: stream reads and data keys fail as unavailable; started again: they work', async () => {
  const nats = await startRestartableNats();
  const log = await JetStreamEventStore.connect(nats.url);
  const keys = await NatsKvDataKeyStore.connect(nats.url, randomBytes(32));
  try {
    const key = await keys.getOrCreate('default', 'someone');
    await nats.stop();
    await expect(log.readStream('grant-default-x')).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(keys.get('default', 'someone')).rejects.toBeInstanceOf(DependencyUnavailableError);
    await nats.start();
    await expect(eventually(() => log.readStream('grant-default-x'))).resolves.toEqual({ events: [], version: null });
    await expect(eventually(() => keys.get('default', 'someone'))).resolves.toEqual(key);
  } finally {
    await keys.close().catch(() => {});
    await log.close();
    await nats.destroy();
  }
}, 60_000);

/** The adapters reconnect by themselves: retried until they answer (bounded). */
async function eventually<T>(attempt: () => Promise<T>, withinMs = 20_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
