import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { UserClaims } from '../../../../contracts/messages/authn.js';
import { ValidateAccessToken } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import type { RequestOf } from '../../../../contracts/messages/define.js';
import { call } from '../../../../infra/bus/typed.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { requestContext } from '../../app/request-context.js';
import { CredentialsMissing, sendOAuthError } from './oauth-error.renderer.js';

/** OIDC Core §5.3 userinfo, protected as RFC 6750 describes. */
@Controller()
export class UserinfoController {
  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {}

  @Get('/userinfo')
  get(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.userinfo(request, reply);
  }

  @Post('/userinfo')
  post(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.userinfo(request, reply);
  }

  private async userinfo(request: FastifyRequest, reply: FastifyReply) {
    try {
      const token = bearerToken(request);
      const ctx = requestContext(this.options.tenant, request.headers);
      const timeout = { timeoutMs: this.options.requestTimeoutMs };
      const validated = await call(this.options.bus, ValidateAccessToken, { ctx, token }, timeout);
      if (!validated.active) throw new OAuthError('invalid_token', 'the access token is invalid, expired or revoked');
      const scopes = validated.scope.split(' ');
      if (!scopes.includes('openid')) throw new OAuthError('insufficient_scope', 'the access token lacks the openid scope');
      // OIDC Core §5.3.2: the scopes' claims, and those the grant's `claims.userinfo` member
      // asked for (§5.5), in its `claims_locales` (§5.2).
      const claimsRequest: RequestOf<typeof UserClaims> = {
        ctx,
        sub: validated.sub,
        scopes,
        ...(validated.userinfoClaims !== undefined ? { requested: validated.userinfoClaims } : {}),
        ...(validated.claimsLocales !== undefined ? { locales: validated.claimsLocales } : {}),
      };
      const { claims } = await call(this.options.bus, UserClaims, claimsRequest, timeout);
      if (!claims) throw new OAuthError('invalid_token', 'the subject of the access token no longer exists');
      reply.status(200).header('Cache-Control', 'no-store').send(claims);
    } catch (error) {
      sendOAuthError(reply, error, this.options.logger, { wwwAuthenticate: 'Bearer' });
    }
  }
}

/** RFC 6750 §2.1 (header) and §2.2 (form body); exactly one of them. */
function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const body = request.body as Record<string, unknown> | undefined;
  const formToken =
    request.method === 'POST' && String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
      ? body?.access_token
      : undefined;
  if (header !== undefined && /^bearer /i.test(header)) {
    if (formToken !== undefined) throw new OAuthError('invalid_request', 'more than one access token');
    const token = header.slice(7).trim();
    if (token) return token;
  } else if (typeof formToken === 'string' && formToken) {
    return formToken;
  }
  throw new CredentialsMissing('an access token is required');
}
