import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { Logger } from 'pino';
import { GetJwks, GrantTokens, IntrospectToken, IssueAuthorization, RevokeToken, ValidateAccessToken, VerifyIdTokenHint } from '../../../contracts/messages/token-issuer.js';
import { serve } from '../../../infra/bus/typed.js';
import { LOGGER } from '../../shared/adapters/tokens.js';
import { validateAccessToken } from '../app/access-token.js';
import { answerIntrospection, answerRevocation, answerTokenRequest } from '../app/client-requests.js';
import { verifyIdTokenHint } from '../app/id-token-hint.js';
import { issueAuthorization } from '../app/issue-authorization.js';
import type { TokenIssuerDeps } from '../app/token-issuer.deps.js';

export const TOKEN_ISSUER_DEPS = Symbol('TOKEN_ISSUER_DEPS');

@Controller()
export class TokenIssuerMessageController {
  constructor(
    @Inject(TOKEN_ISSUER_DEPS) private readonly deps: TokenIssuerDeps,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private readonly unexpected = (err: unknown, subject: string) => this.logger.error({ err, subject }, 'handler failed');

  @MessagePattern(IssueAuthorization.subject)
  issueAuthorization(@Payload() payload: unknown) {
    return serve(IssueAuthorization, payload, (r) => issueAuthorization(this.deps, r.ctx, r), this.unexpected);
  }

  @MessagePattern(GrantTokens.subject)
  grantTokens(@Payload() payload: unknown) {
    return serve(GrantTokens, payload, (r) => answerTokenRequest(this.deps, r.ctx, r), this.unexpected);
  }

  @MessagePattern(ValidateAccessToken.subject)
  validateAccessToken(@Payload() payload: unknown) {
    return serve(ValidateAccessToken, payload, (r) => validateAccessToken(this.deps, r.ctx, r.token), this.unexpected);
  }

  @MessagePattern(IntrospectToken.subject)
  introspect(@Payload() payload: unknown) {
    return serve(IntrospectToken, payload, (r) => answerIntrospection(this.deps, r.ctx, r), this.unexpected);
  }

  @MessagePattern(RevokeToken.subject)
  revoke(@Payload() payload: unknown) {
    return serve(RevokeToken, payload, (r) => answerRevocation(this.deps, r.ctx, r), this.unexpected);
  }

  @MessagePattern(VerifyIdTokenHint.subject)
  verifyIdTokenHint(@Payload() payload: unknown) {
    return serve(VerifyIdTokenHint, payload, (r) => verifyIdTokenHint(this.deps, r.ctx, r.idTokenHint), this.unexpected);
  }

  @MessagePattern(GetJwks.subject)
  jwks(@Payload() payload: unknown) {
    return serve(GetJwks, payload, async (r) => ({ keys: await this.deps.keyring.jwks(r.ctx) }), this.unexpected);
  }
}
