import type { Logger } from 'pino';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { startProjector, type Projector, type ProjectorOptions } from '../../../infra/projections/projector.js';
import type { Projection } from '../projections/project.js';

/**
 * Runs a service's projections from their checkpoint. `start` resolves once the projections
 * have caught up with the log, so a service answers only from rebuilt state; while the
 * projection store is down it keeps waiting (the projector retries). If the log holds an event
 * the projection cannot apply, the projector stops there loudly, and `start` still resolves: the
 * service comes up not ready (/readyz says why, /metrics shows it) rather than crash-looping.
 */
export class ProjectionRunner {
  private projector: Projector | undefined;

  constructor(
    private readonly name: string,
    private readonly project: Projection,
    private readonly eventStore: EventStore,
    private readonly projectionStore: ProjectionStore,
    private readonly logger: Logger,
    private readonly tuning: Pick<ProjectorOptions, 'checkpointDelayMs'> = {},
  ) {}

  async start(): Promise<void> {
    const startedAt = Date.now();
    this.projector = startProjector({
      name: this.name,
      eventStore: this.eventStore,
      projectionStore: this.projectionStore,
      project: this.project,
      logger: this.logger,
      ...this.tuning,
    });
    try {
      await this.projector.caughtUp;
      this.logger.info({ projector: this.name, ms: Date.now() - startedAt }, 'projections caught up');
    } catch {
      // Logged by the projector with the event's position; readiness reports it.
    }
  }

  /**
   * Whether the projections are complete as far as the projector knows: it follows live, and
   * the store's `checkpoint` (as just read by the caller) has not gone back below what it
   * wrote (a store that lost its state, before the projector noticed). The events it handled
   * since it last wrote projected nothing, so they are not missing.
   */
  current(checkpoint: number): boolean {
    const projector = this.projector;
    return projector !== undefined && projector.status().state === 'live' && checkpoint >= projector.writtenCheckpoint();
  }

  async stop(): Promise<void> {
    await this.projector?.stop();
  }
}
