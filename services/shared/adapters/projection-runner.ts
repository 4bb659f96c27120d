import type { Logger } from 'pino';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { projectionLag, projectionPosition } from '../../../infra/metrics/metrics.js';
import { startProjector, type Projector } from '../../../infra/projections/projector.js';
import type { Projection } from '../projections/project.js';

/**
 * Runs a service's projections from its checkpoint. `start` resolves once the projections have
 * caught up with the log, so a service answers only from rebuilt state.
 */
export class ProjectionRunner {
  private projector: Projector | undefined;

  constructor(
    private readonly name: string,
    private readonly project: Projection,
    private readonly eventStore: EventStore,
    private readonly projectionStore: ProjectionStore,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const startedAt = Date.now();
    this.projector = startProjector({
      name: this.name,
      eventStore: this.eventStore,
      projectionStore: this.projectionStore,
      project: (event) => {
        projectionPosition.set({ projector: this.name }, event.position);
        const time = (event.metadata as { time?: unknown } | null)?.time;
        if (typeof time === 'string') projectionLag.set({ projector: this.name }, (Date.now() - Date.parse(time)) / 1000);
        return this.project(event);
      },
      onError: (error) => this.logger.error({ err: error, projector: this.name }, 'projection failed'),
    });
    await this.projector.caughtUp;
    this.logger.info({ projector: this.name, ms: Date.now() - startedAt }, 'projections caught up');
  }

  async stop(): Promise<void> {
    await this.projector?.stop();
  }
}
