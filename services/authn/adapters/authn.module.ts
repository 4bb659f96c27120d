import { Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { DataKeyStore } from '../../../infra/crypto/data-keys/port.js';
import type { Argon2Parameters } from '../../../infra/crypto/passwords.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { ProjectionRunner } from '../../shared/adapters/projection-runner.js';
import { LOGGER } from '../../shared/adapters/tokens.js';
import { AuthnApp } from '../app/authn.app.js';
import { AUTHN_CHECKPOINT, authnProjections } from '../projections/authn.projections.js';
import { AuthnMessageController } from './authn.message.controller.js';

export interface AuthnModuleOptions {
  eventStore: EventStore;
  projectionStore: ProjectionStore;
  dataKeys: DataKeyStore;
  usernameKey: Buffer;
  loginSourceKey: Buffer;
  sessionTtlSeconds: number;
  argon2?: Argon2Parameters;
  logger: Logger;
}

const RUNNER = Symbol('AUTHN_PROJECTIONS');

@Module({})
export class AuthnModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(RUNNER) private readonly runner: ProjectionRunner) {}

  static forRoot(options: AuthnModuleOptions): DynamicModule {
    const logger = options.logger.child({ service: 'authn' });
    return {
      module: AuthnModule,
      controllers: [AuthnMessageController],
      providers: [
        { provide: LOGGER, useValue: logger },
        {
          provide: AuthnApp,
          useValue: new AuthnApp({
            store: options.eventStore,
            projections: options.projectionStore,
            dataKeys: options.dataKeys,
            usernameKey: options.usernameKey,
            loginSourceKey: options.loginSourceKey,
            sessionTtlSeconds: options.sessionTtlSeconds,
            ...(options.argon2 ? { argon2: options.argon2 } : {}),
          }),
        },
        {
          provide: RUNNER,
          useValue: new ProjectionRunner(AUTHN_CHECKPOINT, authnProjections, options.eventStore, options.projectionStore, logger),
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
