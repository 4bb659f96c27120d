import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseForm } from '../../app/form.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { revoke } from '../../app/token/revoke.js';
import { sendOAuthError } from './oauth-error.renderer.js';

/** The revocation endpoint (RFC 7009) on the wire: parse, revoke, answer 200 with no content. */
@Controller()
export class RevocationController {
  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {}

  @Post('/revoke')
  async revoke(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const usedBasic = /^basic /i.test(request.headers.authorization ?? '');
    try {
      const form = parseForm(request.headers['content-type'], request.body, 'revocation');
      await revoke(this.options, request.headers, form);
      reply.status(200).header('Cache-Control', 'no-store').send();
    } catch (error) {
      sendOAuthError(reply, error, this.options.logger, usedBasic ? { wwwAuthenticate: 'Basic' } : {});
    }
  }
}
