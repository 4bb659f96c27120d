import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { NewEvent, RecordedEvent } from '../../infra/event-store/port.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { PoisonEventError, lagSeconds } from '../../infra/followers/follower.js';
import { checkFollowers } from '../../infra/followers/registry.js';
import type { ProjectionStore, ProjectionWrite } from '../../infra/projections/port.js';
import { startProjector } from '../../infra/projections/projector.js';
import { FlakyProjectionStore } from '../support/flaky-projection-store.js';
import { eventually, sleep } from '../support/eventually.js';

const NOW = 1_700_000_000_000;

function event(type: string, data: Record<string, unknown>): NewEvent {
  return eventAt(type, data, new Date());
}

function eventAt(type: string, data: Record<string, unknown>, time: Date): NewEvent {
  const metadata = { test: true, time: time.toISOString() };
  const hash = createHash('sha256').update(JSON.stringify({ type, schemaVersion: 1, data, metadata })).digest('hex');
  return { type, schemaVersion: 1, data, metadata, hash };
}

/** A small projection: user emails by id, and sessions that expire. */
function project(e: RecordedEvent): ProjectionWrite[] {
  const data = e.data as { id: string; email?: string; expiresAt?: number };
  switch (e.type) {
    case 'UserRegistered':
    case 'UserEmailChanged':
      return [{ kind: 'put', key: `user:${data.id}`, value: { email: data.email } }];
    case 'UserDeleted':
      return [{ kind: 'delete', key: `user:${data.id}` }];
    case 'SessionStarted':
      return [{ kind: 'put', key: `session:${data.id}`, value: { id: data.id }, expiresAt: data.expiresAt! }];
    default:
      return [];
  }
}

describe('startProjector', () => {
  let events: InMemoryEventStore;
  let projections: InMemoryProjectionStore;
  const stops: Array<() => Promise<void>> = [];

  const start = (name: string, store: ProjectionStore = projections, projectFn = project) => {
    const projector = startProjector({
      name,
      eventStore: events,
      projectionStore: store,
      project: projectFn,
      backoff: { minMs: 10, maxMs: 50 },
      checkIntervalMs: 20,
    });
    stops.push(() => projector.stop());
    return projector;
  };

  /** A history where replaying old events onto the result would change it, were writes not guarded. */
  async function appendHistory(): Promise<void> {
    await events.append('user-1', [event('UserRegistered', { id: '1', email: 'a@example.com' })], 'no_stream');
    await events.append('user-2', [event('UserRegistered', { id: '2', email: 'b@example.com' })], 'no_stream');
    await events.append('user-1', [event('UserEmailChanged', { id: '1', email: 'a2@example.com' })], 'any');
    await events.append('user-2', [event('UserDeleted', { id: '2' })], 'any');
    await events.append('session-1', [event('SessionStarted', { id: 's1', expiresAt: NOW + 60_000 })], 'no_stream');
    await events.append('session-2', [event('SessionStarted', { id: 's2', expiresAt: NOW - 1 })], 'no_stream');
    await events.append('noise', [event('SomethingElse', { id: 'x' })], 'no_stream');
  }

  beforeEach(() => {
    events = new InMemoryEventStore();
    projections = new InMemoryProjectionStore();
  });
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
    await events.close();
  });

  it('catches up on the existing log and checkpoints its last position', async () => {
    await appendHistory();

    await start('users').caughtUp;

    expect(await projections.get('user:1', NOW)).toEqual({ email: 'a2@example.com' });
    expect(await projections.get('user:2', NOW)).toBeUndefined();
    expect(await projections.get('session:s1', NOW)).toEqual({ id: 's1' });
    expect(await projections.get('session:s2', NOW)).toBeUndefined();
    // The last event projects nothing, and still moves the checkpoint.
    expect(await projections.checkpoint('users')).toBe(7);
  });

  it('resumes after its checkpoint', async () => {
    await appendHistory();
    const first = start('users');
    await first.caughtUp;
    await first.stop();
    await events.append('user-3', [event('UserRegistered', { id: '3', email: 'c@example.com' })], 'no_stream');

    const seen: number[] = [];
    await start('users', projections, (e) => {
      seen.push(e.position);
      return project(e);
    }).caughtUp;

    expect(seen).toEqual([8]);
    expect(await projections.get('user:3', NOW)).toEqual({ email: 'c@example.com' });
    expect(await projections.checkpoint('users')).toBe(8);
  });

  it('projects live events as they are appended', async () => {
    await start('users').caughtUp;
    expect(await projections.checkpoint('users')).toBe(0);

    await events.append('user-9', [event('UserRegistered', { id: '9', email: 'z@example.com' })], 'no_stream');
    await eventually(async () => expect(await projections.get('user:9', NOW)).toEqual({ email: 'z@example.com' }));
    await events.append('noise', [event('SomethingElse', { id: 'x' })], 'no_stream');
    await eventually(async () => expect(await projections.checkpoint('users')).toBe(2));
  });

  it('stops projecting once stopped', async () => {
    const projector = start('users');
    await projector.caughtUp;
    await projector.stop();

    await events.append('user-1', [event('UserRegistered', { id: '1', email: 'a@example.com' })], 'no_stream');
    await sleep(30);
    expect(await projections.get('user:1', NOW)).toBeUndefined();
    expect(await projections.checkpoint('users')).toBe(0);
  });

  it('leaves the same digest when a second projector replays the same log', async () => {
    await appendHistory();
    await start('users').caughtUp;
    const digest = await projections.digest(NOW);

    await start('users-replay').caughtUp;

    expect(await projections.checkpoint('users-replay')).toBe(7);
    expect(await projections.digest(NOW)).toBe(digest);
    expect(await projections.get('user:2', NOW)).toBeUndefined();
  });

  it('rebuilds the same state from scratch', async () => {
    await appendHistory();
    await start('users').caughtUp;
    const digest = await projections.digest(NOW);

    const fresh = new InMemoryProjectionStore();
    await start('users', fresh).caughtUp;
    expect(await fresh.digest(NOW)).toBe(digest);

    await projections.clear();
    await start('users-again').caughtUp;
    expect(await projections.digest(NOW)).toBe(digest);
  });

  it('stops loudly at an event it cannot apply: failed state with the position, a rejected caughtUp, no spinning', async () => {
    await appendHistory();
    const failure = new Error('cannot project');
    let calls = 0;
    const projector = start('users', projections, (e) => {
      if (e.position === 3) {
        calls++;
        throw failure;
      }
      return project(e);
    });

    const error = await projector.caughtUp.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoisonEventError);
    expect((error as PoisonEventError).cause).toBe(failure);
    await sleep(200); // with a 10 ms backoff, a spinning projector would call it again and again
    expect(calls).toBe(1);
    expect(projector.status()).toMatchObject({
      state: 'failed',
      position: 2,
      poison: { position: 3, streamName: 'user-1', streamIndex: 1, type: 'UserEmailChanged' },
    });
    expect(await projections.checkpoint('users')).toBe(2);
    await expect(checkFollowers(60_000)).rejects.toThrow(/users stopped at position 3/);
  });

  it('retries a failing target with backoff and resumes from its checkpoint, losing nothing', async () => {
    const flaky = new FlakyProjectionStore(projections);
    await appendHistory();
    const projector = start('users', flaky);
    await projector.caughtUp;
    const reference = await projections.digest(NOW);

    flaky.down = true;
    await events.append('user-3', [event('UserRegistered', { id: '3', email: 'c@example.com' })], 'no_stream');
    await eventually(async () => expect(projector.status().state).toBe('retrying'));
    await expect(checkFollowers(60_000)).rejects.toThrow(/users is retrying/);
    expect(await projections.get('user:3', NOW)).toBeUndefined();
    const failuresWhileDown = flaky.failures;
    await sleep(100);
    expect(flaky.failures).toBeGreaterThan(failuresWhileDown); // still trying, with backoff

    flaky.down = false;
    await eventually(async () => expect(await projections.get('user:3', NOW)).toEqual({ email: 'c@example.com' }), 2000);
    await eventually(async () => expect(projector.status().state).toBe('live'));
    await expect(checkFollowers(60_000)).resolves.toBeUndefined();
    expect(await projections.checkpoint('users')).toBe(8);
    expect(await projections.digest(NOW)).not.toBe(reference);
  });

  it('starts its backoff over after a healthy stretch: a second outage is retried promptly', async () => {
    const flaky = new FlakyProjectionStore(projections);
    const projector = startProjector({
      name: 'users',
      eventStore: events,
      projectionStore: flaky,
      project,
      backoff: { minMs: 10, maxMs: 2_000 },
      checkIntervalMs: 20,
    });
    stops.push(() => projector.stop());
    await projector.caughtUp;
    flaky.down = true; // first outage: the backoff grows to ~1.3 s
    await sleep(1_500);
    flaky.down = false;
    await eventually(async () => expect(projector.status().state).toBe('live'), 3_000);
    await sleep(100);

    flaky.down = true; // second outage, after a healthy stretch
    const before = flaky.failures;
    await sleep(300);
    // Retried at ~10, 20, 40, 80 ms again, not after the first outage's long delay.
    expect(flaky.failures - before).toBeGreaterThanOrEqual(3);
    flaky.down = false;
  });

  it('rebuilds a target that lost its checkpoint (an empty restart) from the log, while idle', async () => {
    await appendHistory();
    const projector = start('users');
    await projector.caughtUp;
    const digest = await projections.digest(NOW);
    await projections.clear();
    await eventually(async () => expect(await projections.digest(NOW)).toBe(digest), 2000);
    expect(await projections.checkpoint('users')).toBe(7);
    expect(projector.status().state).toBe('live');
  });

  it('measures its lag against the log', async () => {
    const flaky = new FlakyProjectionStore(projections);
    const projector = start('users', flaky);
    await projector.caughtUp;
    expect(await lagSeconds(projector)).toBe(0);
    flaky.down = true;
    await events.append('user-9', [eventAt('UserRegistered', { id: '9' }, new Date(Date.now() - 30_000))], 'no_stream');
    await eventually(async () => expect(projector.status().state).toBe('retrying'));
    expect(await lagSeconds(projector)).toBeGreaterThanOrEqual(30);
    flaky.down = false;
    await eventually(async () => expect(await lagSeconds(projector)).toBe(0), 2000);
  });

  it('treats writes the target refuses as invalid as a poison event, not as an outage', async () => {
    await appendHistory();
    const projector = start('users', projections, (e) =>
      e.position === 2 ? [{ kind: 'put', key: 'bad', value: 10n as unknown }] : project(e),
    );
    const error = await projector.caughtUp.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoisonEventError);
    expect(projector.status()).toMatchObject({ state: 'failed', position: 1, poison: { position: 2 } });
  });

  it('does not accumulate listeners while it retries a failing target', async () => {
    const flaky = new FlakyProjectionStore(projections);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      flaky.down = true;
      start('users', flaky);
      await sleep(900); // 10 ms doubling to 50 ms: well over ten retries
      expect(flaky.failures).toBeGreaterThan(10);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('startProjector on a SQLite log with a corrupt record', () => {
  it('applies every event before it, then stops loudly at its position instead of crashing or spinning', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'projector-corrupt-'));
    const file = path.join(dir, 'log.db');
    const store = SqliteEventStore.open(file);
    const projections = new InMemoryProjectionStore();
    try {
      await store.append('user-1', [event('UserRegistered', { id: '1', email: 'a@example.com' })], 'no_stream');
      await store.append('user-2', [event('UserRegistered', { id: '2', email: 'b@example.com' })], 'no_stream');
      await store.append('user-3', [event('UserRegistered', { id: '3', email: 'c@example.com' })], 'no_stream');
      const raw = new Database(file);
      raw.prepare(`UPDATE events SET data = '{"id": "2", broken' WHERE position = 2`).run();
      raw.close();

      const projector = startProjector({
        name: 'users',
        eventStore: store,
        projectionStore: projections,
        project,
        backoff: { minMs: 10, maxMs: 50 },
      });
      const error = await projector.caughtUp.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PoisonEventError);
      expect(projector.status()).toMatchObject({ state: 'failed', position: 1, poison: { position: 2, streamName: 'user-2' } });
      expect(await projections.get('user:1', NOW)).toEqual({ email: 'a@example.com' });
      expect(await projections.get('user:3', NOW)).toBeUndefined();
      await projector.stop();
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

