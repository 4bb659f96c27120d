import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { loginSource } from '../../app/client-address.js';
import { parseFormWithRepeats } from '../../app/form.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { requestTokens } from '../../app/token/request-tokens.js';
import { sendOAuthError } from './oauth-error.renderer.js';

/** The token endpoint (RFC 6749 §3.2) on the wire: parse, request the tokens, render. */
@Controller()
export class TokenController {
  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {}

  @Post('/token')
  async token(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const usedBasic = /^basic /i.test(request.headers.authorization ?? '');
    try {
      const { form, repeated } = parseFormWithRepeats(request.headers['content-type'], request.body, 'token');
      // The client address: the password grant's login is throttled per source (authn keeps its HMAC only).
      const tokens = await requestTokens(this.options, request.headers, form, repeated, loginSource(request.ip));
      reply.status(200).header('Cache-Control', 'no-store').header('Pragma', 'no-cache').send(tokens);
    } catch (error) {
      sendOAuthError(reply, error, this.options.logger, usedBasic ? { wwwAuthenticate: 'Basic' } : {});
    }
  }
}
