import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { Logger } from 'pino';
import {
  GetJwks,
  GrantTokens,
  IntrospectToken,
  IssueAuthorization,
  ListSigningKeys,
  RevokeSigningKey,
  RevokeToken,
  RotateSigningKeys,
  ValidateAccessToken,
  VerifyIdTokenHint,
} from '../../../contracts/messages/token-issuer.js';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import { OAuthError } from '../../../contracts/oauth-error.js';
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

  // Administration of the keyring (`idp keys`): the admin identity alone may send these (NATS
  // permissions derived from the contracts); in one process, the context must say so too.
  @MessagePattern(ListSigningKeys.subject)
  listSigningKeys(@Payload() payload: unknown) {
    return serve(ListSigningKeys, payload, async (r) => ({ keys: await this.deps.keyring.list(adminOnly(r.ctx)) }), this.unexpected);
  }

  @MessagePattern(RotateSigningKeys.subject)
  rotateSigningKeys(@Payload() payload: unknown) {
    return serve(RotateSigningKeys, payload, (r) => this.deps.keyring.rotate(adminOnly(r.ctx), r.alg), this.unexpected);
  }

  @MessagePattern(RevokeSigningKey.subject)
  revokeSigningKey(@Payload() payload: unknown) {
    return serve(RevokeSigningKey, payload, (r) => this.deps.keyring.revoke(adminOnly(r.ctx), r.kid), this.unexpected);
  }
}

function adminOnly(ctx: RequestContext): RequestContext {
  if (ctx.actor.kind !== 'admin') throw new OAuthError('access_denied', 'only an administrator manages the signing keys', { mayRedirect: false });
  return ctx;
}
