import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { Logger } from 'pino';
import {
  AuthenticateClient,
  DeleteClient,
  GetClient,
  ListClients,
  ReadClientConfiguration,
  RegisterClient,
  RevokeClientTokens,
  RotateClientSecret,
  UpdateClient,
} from '../../../contracts/messages/client-registry.js';
import { serve } from '../../../infra/bus/typed.js';
import { LOGGER } from '../../shared/adapters/tokens.js';
import { ClientManagementApp } from '../app/client-management.app.js';
import { ClientRegistryApp } from '../app/client-registry.app.js';

@Controller()
export class ClientRegistryMessageController {
  constructor(
    @Inject(ClientRegistryApp) private readonly app: ClientRegistryApp,
    @Inject(ClientManagementApp) private readonly management: ClientManagementApp,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private readonly unexpected = (err: unknown, subject: string) => this.logger.error({ err, subject }, 'handler failed');

  @MessagePattern(RegisterClient.subject)
  register(@Payload() payload: unknown) {
    return serve(RegisterClient, payload, (r) =>
        this.app.register(r.ctx, r.metadata, {
          ...(r.clientId !== undefined ? { fixedClientId: r.clientId } : {}),
          ...(r.authorizedBy !== undefined ? { authorizedBy: r.authorizedBy } : {}),
        }), this.unexpected);
  }

  @MessagePattern(GetClient.subject)
  get(@Payload() payload: unknown) {
    return serve(GetClient, payload, async (r) => ({ client: await this.app.get(r.ctx, r.clientId) }), this.unexpected);
  }

  @MessagePattern(AuthenticateClient.subject)
  authenticate(@Payload() payload: unknown) {
    return serve(
      AuthenticateClient,
      payload,
      async (r) => ({ client: await this.app.authenticate(r.ctx, r.clientId, r.method, r.clientSecret) }),
      this.unexpected,
    );
  }

  @MessagePattern(ReadClientConfiguration.subject)
  read(@Payload() payload: unknown) {
    return serve(
      ReadClientConfiguration,
      payload,
      async (r) => ({ client: await this.management.read(r.ctx, r.clientId, r.registrationAccessToken) }),
      this.unexpected,
    );
  }

  @MessagePattern(UpdateClient.subject)
  update(@Payload() payload: unknown) {
    return serve(UpdateClient, payload, (r) => this.management.update(r.ctx, r), this.unexpected);
  }

  @MessagePattern(RotateClientSecret.subject)
  rotateSecret(@Payload() payload: unknown) {
    return serve(RotateClientSecret, payload, (r) => this.management.rotateSecret(r.ctx, r.clientId, r.registrationAccessToken), this.unexpected);
  }

  @MessagePattern(DeleteClient.subject)
  delete(@Payload() payload: unknown) {
    return serve(DeleteClient, payload, (r) => this.management.delete(r.ctx, r.clientId, r.registrationAccessToken), this.unexpected);
  }

  @MessagePattern(RevokeClientTokens.subject)
  revokeTokens(@Payload() payload: unknown) {
    return serve(RevokeClientTokens, payload, (r) => this.management.revokeTokens(r.ctx, r.clientId), this.unexpected);
  }

  @MessagePattern(ListClients.subject)
  list(@Payload() payload: unknown) {
    return serve(ListClients, payload, async (r) => ({ clients: await this.management.list(r.ctx) }), this.unexpected);
  }
}
