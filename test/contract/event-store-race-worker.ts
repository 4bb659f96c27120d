/**
 * One contender in the event store race test: opens its own connection to the store, says
 * 'ready', blocks on the shared gate until the suite opens it, then appends once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { WrongExpectedVersionError, type EventStore } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import type { RaceOutcome, RaceTarget, RaceWorkerData } from './event-store.contract.js';

async function open(target: RaceTarget): Promise<EventStore> {
  switch (target.kind) {
    case 'sqlite':
      return SqliteEventStore.open(target.path);
    case 'jetstream':
      return JetStreamEventStore.connect(target.url, {
        streamName: target.streamName,
        subjectPrefix: target.subjectPrefix,
      });
    case 'kurrentdb': {
      // Loaded only here: the gRPC client takes most of a second of CPU to load, in each of 50 workers.
      const { KurrentDbEventStore } = await import('../../infra/event-store/kurrentdb.js');
      return KurrentDbEventStore.connect(target.connectionString, { streamPrefix: target.streamPrefix });
    }
  }
}

const port = parentPort;
if (port === null) throw new Error('event-store-race-worker must run in a worker thread');
const { target, streamName, expected, event, gate } = workerData as RaceWorkerData;

const store = await open(target);
port.postMessage({ kind: 'ready' });
Atomics.wait(new Int32Array(gate), 0, 0);

let outcome: RaceOutcome;
try {
  await store.append(streamName, [event], expected);
  outcome = 'appended';
} catch (error) {
  outcome = error instanceof WrongExpectedVersionError ? 'wrong_expected_version' : `failed: ${String(error)}`;
} finally {
  await store.close();
}
port.postMessage({ kind: 'result', outcome });
