import { Module, type DynamicModule } from '@nestjs/common';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../app/gateway.options.js';
import { AuthorizeController } from './http/authorize.controller.js';
import { ClientConfigurationController } from './http/client-configuration.controller.js';
import { DemoCallbackController } from './http/demo-callback.controller.js';
import { DiscoveryController } from './http/discovery.controller.js';
import { IntrospectionController } from './http/introspection.controller.js';
import { LogoutController } from './http/logout.controller.js';
import { RevocationController } from './http/revocation.controller.js';
import { RegistrationController } from './http/registration.controller.js';
import { TokenController } from './http/token.controller.js';
import { UserinfoController } from './http/userinfo.controller.js';

@Module({})
export class GatewayModule {
  static forRoot(options: GatewayOptions & { demoCallback?: boolean }): DynamicModule {
    const controllers = [DiscoveryController, AuthorizeController, TokenController, IntrospectionController, RevocationController, UserinfoController, RegistrationController, ClientConfigurationController, LogoutController];
    return {
      module: GatewayModule,
      controllers: options.demoCallback ? [...controllers, DemoCallbackController] : controllers,
      providers: [{ provide: GATEWAY_OPTIONS, useValue: { ...options, logger: options.logger.child({ service: 'gateway' }) } }],
    };
  }
}
