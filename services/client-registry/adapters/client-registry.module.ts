import { Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { ProjectionRunner } from '../../shared/adapters/projection-runner.js';
import { LOGGER } from '../../shared/adapters/tokens.js';
import { ClientManagementApp } from '../app/client-management.app.js';
import { ClientRegistryApp } from '../app/client-registry.app.js';
import { CLIENT_REGISTRY_CHECKPOINT, clientRegistryProjections } from '../projections/client-by-id.js';
import { ClientRegistryMessageController } from './client-registry.message.controller.js';

export interface ClientRegistryModuleOptions {
  eventStore: EventStore;
  projectionStore: ProjectionStore;
  logger: Logger;
}

const RUNNER = Symbol('CLIENT_REGISTRY_PROJECTIONS');

@Module({})
export class ClientRegistryModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(RUNNER) private readonly runner: ProjectionRunner) {}

  static forRoot(options: ClientRegistryModuleOptions): DynamicModule {
    const logger = options.logger.child({ service: 'client-registry' });
    return {
      module: ClientRegistryModule,
      controllers: [ClientRegistryMessageController],
      providers: [
        { provide: LOGGER, useValue: logger },
        {
          provide: ClientRegistryApp,
          useValue: new ClientRegistryApp({ store: options.eventStore, projections: options.projectionStore }),
        },
        {
          provide: ClientManagementApp,
          useValue: new ClientManagementApp({ store: options.eventStore, projections: options.projectionStore, clock: () => new Date() }),
        },
        {
          provide: RUNNER,
          useValue: new ProjectionRunner(CLIENT_REGISTRY_CHECKPOINT, clientRegistryProjections, options.eventStore, options.projectionStore, logger),
        },
      ],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}
