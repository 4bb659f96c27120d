import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { Logger } from 'pino';
import {
  CheckConsent,
  DisableUser,
  EnableUser,
  EndSession,
  ForgetUser,
  GetUser,
  ListUsers,
  SetUserPassword,
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

  // `idp user …` (callers: admin only; NATS refuses any other sender).
  @MessagePattern(GetUser.subject)
  getUser(@Payload() payload: unknown) {
    return serve(GetUser, payload, async (r) => ({ user: await this.app.users.get(r.ctx, r.subOrUsername) }), this.unexpected);
  }

  @MessagePattern(ListUsers.subject)
  listUsers(@Payload() payload: unknown) {
    return serve(ListUsers, payload, async (r) => ({ users: await this.app.users.list(r.ctx) }), this.unexpected);
  }

  @MessagePattern(DisableUser.subject)
  disableUser(@Payload() payload: unknown) {
    return serve(DisableUser, payload, (r) => this.app.users.disable(r.ctx, r.sub, r.reason), this.unexpected);
  }

  @MessagePattern(EnableUser.subject)
  enableUser(@Payload() payload: unknown) {
    return serve(EnableUser, payload, (r) => this.app.users.enable(r.ctx, r.sub), this.unexpected);
  }

  @MessagePattern(SetUserPassword.subject)
  setUserPassword(@Payload() payload: unknown) {
    return serve(SetUserPassword, payload, (r) => this.app.users.setPassword(r.ctx, r.sub, r.password), this.unexpected);
  }

  @MessagePattern(ForgetUser.subject)
  forgetUser(@Payload() payload: unknown) {
    return serve(ForgetUser, payload, (r) => this.app.users.forget(r.ctx, r.sub), this.unexpected);
  }
}
