import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { Logger } from 'pino';
import {
  CheckConsent,
  EndSession,
  GrantConsent,
  Login,
  RegisterUser,
  ResolveSession,
  UserClaims,
} from '../../../contracts/messages/authn.js';
import { serve } from '../../../infra/bus/typed.js';
import { LOGGER } from '../../shared/adapters/tokens.js';
import { AuthnApp } from '../app/authn.app.js';

@Controller()
export class AuthnMessageController {
  constructor(
    @Inject(AuthnApp) private readonly app: AuthnApp,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private readonly unexpected = (err: unknown, subject: string) => this.logger.error({ err, subject }, 'handler failed');

  @MessagePattern(RegisterUser.subject)
  registerUser(@Payload() payload: unknown) {
    return serve(RegisterUser, payload, (r) => this.app.registerUser(r.ctx, r), this.unexpected);
  }

  @MessagePattern(Login.subject)
  login(@Payload() payload: unknown) {
    return serve(Login, payload, (r) => this.app.login(r.ctx, r), this.unexpected);
  }

  @MessagePattern(ResolveSession.subject)
  resolveSession(@Payload() payload: unknown) {
    return serve(
      ResolveSession,
      payload,
      async (r) => ({ session: await this.app.resolveSession(r.ctx, r.sessionToken) }),
      this.unexpected,
    );
  }

  @MessagePattern(EndSession.subject)
  endSession(@Payload() payload: unknown) {
    return serve(EndSession, payload, (r) => this.app.endSession(r.ctx, r), this.unexpected);
  }

  @MessagePattern(CheckConsent.subject)
  checkConsent(@Payload() payload: unknown) {
    return serve(
      CheckConsent,
      payload,
      async (r) => ({ granted: await this.app.hasConsent(r.ctx, r.sub, r.clientId, r.scopes) }),
      this.unexpected,
    );
  }

  @MessagePattern(GrantConsent.subject)
  grantConsent(@Payload() payload: unknown) {
    return serve(
      GrantConsent,
      payload,
      async (r) => (await this.app.grantConsent(r.ctx, r.sub, r.clientId, r.scopes), {}),
      this.unexpected,
    );
  }

  @MessagePattern(UserClaims.subject)
  userClaims(@Payload() payload: unknown) {
    return serve(
      UserClaims,
      payload,
      async (r) => ({ claims: await this.app.userClaims(r.ctx, r.sub, r) }),
      this.unexpected,
    );
  }
}
