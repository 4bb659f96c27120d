import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseForm } from '../../app/form.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { introspect } from '../../app/token/introspect.js';
import { sendOAuthError } from './oauth-error.renderer.js';

/** The introspection endpoint (RFC 7662) on the wire: parse, introspect, render. */
@Controller()
export class IntrospectionController {
  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {}

  @Post('/introspect')
  async introspect(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const form = parseForm(request.headers['content-type'], request.body, 'introspection');
      const { response, jwt } = await introspect(this.options, request.headers, form);
      reply.status(200).header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
      if (jwt === undefined) reply.send(response);
      else reply.header('Content-Type', 'application/token-introspection+jwt').send(jwt);
    } catch (error) {
      // RFC 7662 §2.3: a failed client authentication is 401 with a challenge, as at the token endpoint.
      sendOAuthError(reply, error, this.options.logger, { wwwAuthenticate: 'Basic' });
    }
  }
}
