import { createHash } from 'node:crypto';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { NewEvent, RecordedEvent } from '../../infra/event-store/port.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import type { ProjectionWrite } from '../../infra/projections/port.js';
import { startProjector } from '../../infra/projections/projector.js';

const NOW = 1_700_000_000_000;

function event(type: string, data: Record<string, unknown>): NewEvent {
  const metadata = { test: true };
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => Promise<void>, withinMs = 300): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(5);
    }
  }
}

describe('startProjector', () => {
  let events: InMemoryEventStore;
  let projections: InMemoryProjectionStore;
  const stops: Array<() => Promise<void>> = [];

  const start = (name: string, store = projections, projectFn = project, onError?: (e: unknown) => void) => {
    const projector = startProjector({
      name,
      eventStore: events,
      projectionStore: store,
      project: projectFn,
      ...(onError ? { onError } : {}),
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

  it('reports a failing projection and does not checkpoint past it', async () => {
    await appendHistory();
    const failure = new Error('cannot project');
    const errors: unknown[] = [];

    const projector = start(
      'users',
      projections,
      (e) => {
        if (e.position === 3) throw failure;
        return project(e);
      },
      (e) => errors.push(e),
    );

    await expect(projector.caughtUp).rejects.toBe(failure);
    expect(errors).toEqual([failure]);
    expect(await projections.checkpoint('users')).toBe(2);
  });
});
