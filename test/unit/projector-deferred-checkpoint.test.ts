import { createHash } from 'node:crypto';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { NewEvent, RecordedEvent } from '../../infra/event-store/port.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import type { ProjectionWrite } from '../../infra/projections/port.js';
import { startProjector, type Projector } from '../../infra/projections/projector.js';
import { createLogger } from '../../infra/log/logger.js';
import { ProjectionRunner } from '../../services/shared/adapters/projection-runner.js';
import { FlakyProjectionStore } from '../support/flaky-projection-store.js';
import { eventually, sleep } from '../support/eventually.js';

/**
 * Events that project nothing do not each write their checkpoint (issue 12): the checkpoint
 * waits for the next write, catching up, stopping or `checkpointDelayMs`. These tests hold what
 * that must not cost: a lost position, a checkpoint below a write, a missed loss of state.
 */
function event(type: string, id: string): NewEvent {
  const data = { id };
  const metadata = { time: new Date().toISOString() };
  const hash = createHash('sha256').update(JSON.stringify({ type, data, metadata })).digest('hex');
  return { type, schemaVersion: 1, data, metadata, hash };
}

/** Only `Kept` events are projected; `Noise` events project nothing. */
function project(e: RecordedEvent): ProjectionWrite[] {
  return e.type === 'Kept' ? [{ kind: 'put', key: `kept:${(e.data as { id: string }).id}`, value: e.position }] : [];
}

describe('a projector with events that project nothing', () => {
  let events: InMemoryEventStore;
  let inner: InMemoryProjectionStore;
  let store: FlakyProjectionStore;
  let projector: Projector | undefined;

  const start = (checkpointDelayMs: number) =>
    (projector = startProjector({
      name: 'p',
      eventStore: events,
      projectionStore: store,
      project,
      backoff: { minMs: 10, maxMs: 50 },
      checkIntervalMs: 20,
      checkpointDelayMs,
    }));

  const appendNoise = async (count: number) => {
    for (let i = 0; i < count; i++) await events.append(`noise-${i}-${Math.random()}`, [event('Noise', String(i))], 'no_stream');
  };

  beforeEach(() => {
    events = new InMemoryEventStore();
    inner = new InMemoryProjectionStore();
    store = new FlakyProjectionStore(inner);
    projector = undefined;
  });
  afterEach(async () => {
    await projector?.stop();
    await events.close();
  });

  it('writes one checkpoint for a burst of them, after the delay, not one per event', async () => {
    await start(150).caughtUp;
    const before = store.applied.length;

    await appendNoise(20);
    await eventually(() => expect(projector!.status().position).toBe(20));
    expect(store.applied.length).toBe(before); // handled, nothing written yet
    expect(await inner.checkpoint('p')).toBe(0);

    await eventually(async () => expect(await inner.checkpoint('p')).toBe(20));
    expect(store.applied.slice(before)).toEqual([{ position: 20, writes: 0 }]);
  });

  it('writes the checkpoint with the next event that has writes', async () => {
    await start(60_000).caughtUp;
    await appendNoise(3);
    await events.append('kept-1', [event('Kept', '1')], 'no_stream');

    await eventually(async () => expect(await inner.get('kept:1')).toBe(4));
    expect(await inner.checkpoint('p')).toBe(4);
    expect(store.applied.filter((a) => a.position > 0)).toEqual([{ position: 4, writes: 1 }]);
  });

  it('checkpoints on catching up, so caughtUp means the position is written', async () => {
    await appendNoise(5);
    await start(60_000).caughtUp;
    expect(await inner.checkpoint('p')).toBe(5);
  });

  it('writes the deferred checkpoint when stopped, and a restart resumes after it', async () => {
    await start(60_000).caughtUp;
    await appendNoise(4);
    await eventually(() => expect(projector!.status().position).toBe(4));
    expect(await inner.checkpoint('p')).toBe(0);

    await projector!.stop();
    expect(await inner.checkpoint('p')).toBe(4);

    const seen: number[] = [];
    await events.append('kept-2', [event('Kept', '2')], 'no_stream');
    projector = startProjector({
      name: 'p',
      eventStore: events,
      projectionStore: store,
      project: (e) => (seen.push(e.position), project(e)),
      checkpointDelayMs: 60_000,
    });
    await projector.caughtUp;
    expect(seen).toEqual([5]);
  });

  it('still notices a target that lost its state while the checkpoint was deferred, and rebuilds it', async () => {
    await events.append('kept-1', [event('Kept', '1')], 'no_stream');
    await start(60_000).caughtUp;
    await appendNoise(2);
    await eventually(() => expect(projector!.status().position).toBe(3));

    await inner.clear(); // an empty restart of the target: its checkpoint goes back to 0

    await eventually(async () => expect(await inner.get('kept:1')).toBe(1));
    await eventually(async () => expect(await inner.checkpoint('p')).toBe(3));
    expect(projector!.status().state).toBe('live');
  });

  it('goes to retrying when the deferred write fails, and writes it once the target is back', async () => {
    await start(30).caughtUp;
    store.down = true;
    await appendNoise(2);
    await eventually(() => expect(projector!.status().state).toBe('retrying'));

    store.down = false;
    await eventually(async () => expect(await inner.checkpoint('p')).toBe(2));
    await eventually(() => expect(projector!.status().state).toBe('live'));
  });

  it('counts the projections current while a checkpoint is deferred, and not once the target lost state', async () => {
    const runner = new ProjectionRunner('p', Object.assign(project, { types: new Set(['Kept']) }), events, store, createLogger({ level: 'silent' }), {
      checkpointDelayMs: 60_000,
    });
    await events.append('kept-1', [event('Kept', '1')], 'no_stream');
    await runner.start();
    try {
      await appendNoise(3);
      await sleep(30);
      // The target's checkpoint is behind the events handled, which projected nothing: complete.
      expect(await inner.checkpoint('p')).toBe(1);
      expect(runner.current(await inner.checkpoint('p'))).toBe(true);

      await inner.clear();
      expect(runner.current(await inner.checkpoint('p'))).toBe(false);
    } finally {
      await runner.stop();
    }
  });
});
