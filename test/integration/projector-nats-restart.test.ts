import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { v7 } from 'uuid';
import { EventRelay } from '../../infra/event-relay/relay.js';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import type { NewEvent, RecordedEvent } from '../../infra/event-store/port.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import type { ProjectionWrite } from '../../infra/projections/port.js';
import { startProjector, type Projector } from '../../infra/projections/projector.js';
import { startRestartableNats, type RestartableNats } from '../support/restartable-nats.js';

/**
 * A projector following the JetStream log keeps following across a restart of nats-server (an
 * upgrade, a crash): it resumes on its own, without a restart of its process, and applies what
 * is appended afterwards.
 */
let nats: RestartableNats;
let store: JetStreamEventStore;
let projector: Projector | undefined;

beforeAll(async () => {
  nats = await startRestartableNats();
  store = await JetStreamEventStore.connect(nats.url, { streamName: 'RESTART_LOG', subjectPrefix: 'restart.log' });
}, 30_000);

afterAll(async () => {
  await projector?.stop();
  await store?.close();
  await nats?.destroy();
}, 30_000);

/** A well-formed event (the relay publishes only what the metadata contract accepts). */
function event(id: string): NewEvent {
  const data = { id };
  const metadata = {
    eventId: v7(),
    time: new Date().toISOString(),
    tenant: 'default',
    correlationId: `restart-${id}`,
    causationId: null,
    actor: { kind: 'system', id: 'test' },
    service: 'client-registry',
    previousHash: null,
  };
  return { type: 'thing.happened', schemaVersion: 1, data, metadata, hash: createHash('sha256').update(id).digest('hex') };
}

const project = (e: RecordedEvent): ProjectionWrite[] => [{ kind: 'put', key: `thing:${(e.data as { id: string }).id}`, value: e.position }];

async function eventually<T>(what: string, attempt: () => Promise<T>, withinMs = 20_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}`);
      await sleep(100);
    }
  }
}

it('resumes by itself after nats-server restarts, and applies what is appended afterwards', async () => {
  const projections = new InMemoryProjectionStore();
  await store.append('thing-default-a', [event('a')], 'no_stream');
  projector = startProjector({ name: 'things', eventStore: store, projectionStore: projections, project, backoff: { minMs: 50, maxMs: 500 } });
  await projector.caughtUp;
  expect(await projections.get('thing:a')).toBeDefined();

  await nats.stop();
  await sleep(300);
  await nats.start();

  // The store reconnects on its own; an append made while it does may have to be retried.
  await eventually('append after the restart', () => store.append('thing-default-b', [event('b')], 'no_stream'));
  await eventually('projected after the restart', async () => {
    if ((await projections.get('thing:b')) === undefined) throw new Error('thing:b not projected yet');
  });
  await eventually('live again', async () => {
    if (projector!.status().state !== 'live') throw new Error(`state ${projector!.status().state}`);
  });
  expect(await projections.checkpoint('things')).toBe(projector.status().position);
}, 60_000);

it('the live-stream relay also resumes by itself and publishes what came after the restart', async () => {
  const relay = await EventRelay.start({
    store,
    natsUrl: nats.url,
    streamName: 'RESTART_EVENTS',
    subjectPrefix: 'restart.events',
    leaseBucket: 'restart_leases',
    logger: pino({ level: 'silent' }),
  });
  try {
    const log = await store.readAll();
    await eventually('relayed before the restart', async () => {
      if (relay.lastPublishedPosition() !== log.at(-1)!.position) throw new Error(`at ${relay.lastPublishedPosition()} (${JSON.stringify(relay.status())})`);
    });
    await nats.stop();
    await sleep(300);
    await nats.start();
    const { events } = await eventually('append after the restart', () => store.append('thing-default-c', [event('c')], 'no_stream'));
    await eventually('relayed after the restart', async () => {
      if (relay.lastPublishedPosition() !== events[0]!.position) throw new Error(`at ${relay.lastPublishedPosition()} (${relay.status().state})`);
    });
    expect(['live', 'catching_up']).toContain(relay.status().state);
  } finally {
    await relay.stop();
  }
}, 60_000);

it('keeps following across restart after restart, with appends in between (the recreated consumer must not stall)', async () => {
  const projections = new InMemoryProjectionStore();
  const follower = startProjector({ name: 'things-again', eventStore: store, projectionStore: projections, project, backoff: { minMs: 50, maxMs: 500 } });
  try {
    await follower.caughtUp;
    for (let round = 1; round <= 3; round++) {
      await nats.stop();
      await sleep(300);
      await nats.start();
      const ids = Array.from({ length: 5 }, (_, i) => `r${round}-${i}`);
      for (const id of ids) await eventually(`append ${id}`, () => store.append(`thing-default-${id}`, [event(id)], 'no_stream'));
      await eventually(`round ${round} projected`, async () => {
        const missing = [];
        for (const id of ids) if ((await projections.get(`thing:${id}`)) === undefined) missing.push(id);
        if (missing.length > 0) throw new Error(`not projected: ${missing.join(', ')} (${JSON.stringify(follower.status())})`);
      });
    }
  } finally {
    await follower.stop();
  }
}, 90_000);
