import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../../contracts/events/metadata.js';
import { AuthenticateClient, type ClientView } from '../../../../contracts/messages/client-registry.js';
import { RedeemCode, type TokenResponse } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { call } from '../../../../infra/bus/typed.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { requestContext } from '../../app/request-context.js';
import { presentedClientAuthentication } from '../../app/token/client-authentication.js';
import { sendOAuthError } from './oauth-error.renderer.js';

type Params = Record<string, unknown>;
type GrantHandler = (ctx: RequestContext, client: ClientView, params: Params) => Promise<TokenResponse>;

/** The token endpoint (RFC 6749 §3.2): authenticate the client, then dispatch on grant_type. */
@Controller()
export class TokenController {
  private readonly grants: Record<string, GrantHandler>;

  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {
    this.grants = {
      authorization_code: (ctx, client, params) =>
        call(
          options.bus,
          RedeemCode,
          {
            ctx,
            client,
            code: requiredString(params, 'code'),
            ...optionalString(params, 'redirect_uri', 'redirectUri'),
            ...optionalString(params, 'code_verifier', 'codeVerifier'),
          },
          { timeoutMs: options.requestTimeoutMs },
        ),
    };
  }

  @Post('/token')
  async token(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const usedBasic = /^basic /i.test(request.headers.authorization ?? '');
    try {
      if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        throw new OAuthError('invalid_request', 'the token request must be application/x-www-form-urlencoded');
      }
      const params = (request.body ?? {}) as Params;
      const repeated = Object.entries(params).find(([, v]) => Array.isArray(v));
      if (repeated) throw new OAuthError('invalid_request', `${repeated[0]} is repeated`);

      const presented = presentedClientAuthentication(request.headers.authorization, params);
      const ctx = requestContext(this.options.tenant, request.headers, { kind: 'client', id: presented.clientId });
      const { client } = await call(this.options.bus, AuthenticateClient, { ctx, ...presented }, { timeoutMs: this.options.requestTimeoutMs });

      const grantType = params.grant_type;
      if (typeof grantType !== 'string') throw new OAuthError('invalid_request', 'grant_type is required');
      const handler = this.grants[grantType];
      if (!handler) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
      if (!client.grantTypes.includes(grantType)) {
        throw new OAuthError('unauthorized_client', `the client may not use grant_type ${grantType}`);
      }
      const tokens = await handler(ctx, client, params);
      reply.status(200).header('Cache-Control', 'no-store').header('Pragma', 'no-cache').send(tokens);
    } catch (error) {
      sendOAuthError(reply, error, this.options.logger, usedBasic ? { wwwAuthenticate: 'Basic' } : {});
    }
  }
}

function requiredString(params: Params, name: string): string {
  const value = params[name];
  if (typeof value !== 'string' || value === '') throw new OAuthError('invalid_request', `${name} is required`);
  return value;
}

function optionalString<K extends string>(params: Params, name: string, key: K): Partial<Record<K, string>> {
  const value = params[name];
  return typeof value === 'string' && value !== '' ? ({ [key]: value } as Record<K, string>) : {};
}
