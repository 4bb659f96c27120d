import type { EventStore, RecordedEvent, Subscription } from '../event-store/port.js';
import type { ProjectionStore, ProjectionWrite } from './port.js';

export interface ProjectorOptions {
  /** Checkpoint name; also identifies the projector. */
  name: string;
  eventStore: EventStore;
  projectionStore: ProjectionStore;
  project: (event: RecordedEvent) => ProjectionWrite[];
  /** Failures of the projection; without it, a failure after catch-up is an uncaught exception. */
  onError?: (e: unknown) => void;
}

export interface Projector {
  /**
   * Resolves once every event stored at start has been applied; rejects on a failure before
   * that; stays pending if the projector is stopped first.
   */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps a projection up to date from `$all`, resuming after its checkpoint. Every event is
 * applied (even with no writes) so the checkpoint moves past it.
 */
export function startProjector(options: ProjectorOptions): Projector {
  const { name, eventStore, projectionStore, project, onError } = options;
  let stopped = false;
  let subscription: Subscription | undefined;
  let pending = true;
  let resolveCaughtUp!: () => void;
  let rejectCaughtUp!: (e: unknown) => void;
  const caughtUp = new Promise<void>((resolve, reject) => {
    resolveCaughtUp = () => {
      pending = false;
      resolve();
    };
    rejectCaughtUp = (e) => {
      pending = false;
      reject(e);
    };
  });
  // With onError every failure is reported there, so nobody is obliged to await caughtUp.
  if (onError) caughtUp.catch(() => {});

  const fail = (e: unknown): void => {
    const beforeCatchUp = pending;
    rejectCaughtUp(e);
    if (onError) onError(e);
    // Once caught up, nobody awaits caughtUp any more: like the event store, crash rather than
    // let a projection silently stop.
    else if (!beforeCatchUp) throw e;
  };

  const started = (async () => {
    const after = await projectionStore.checkpoint(name);
    if (stopped) return;
    subscription = eventStore.subscribeToAll(
      async (event) => projectionStore.apply(project(event), event.position, name),
      { after, onCaughtUp: resolveCaughtUp, onError: fail },
    );
  })().catch(fail);

  return {
    caughtUp,
    async stop() {
      stopped = true;
      await started;
      await subscription?.stop();
    },
  };
}
