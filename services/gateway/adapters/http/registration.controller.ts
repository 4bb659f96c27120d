import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RegisterClient } from '../../../../contracts/messages/client-registry.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { call } from '../../../../infra/bus/typed.js';
import { constantTimeEqual } from '../../../../infra/crypto/secrets.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { RegistrationRateLimiter } from '../../app/registration-rate-limit.js';
import { requestContext } from '../../app/request-context.js';
import { bearerToken, clientInformation, clientMetadataBody } from './client-information.js';
import { sendOAuthError } from './oauth-error.renderer.js';

/** Dynamic client registration (RFC 7591 §3). */
@Controller()
export class RegistrationController {
  private readonly limiter: RegistrationRateLimiter;

  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {
    this.limiter = new RegistrationRateLimiter(options.registrationRate);
  }

  @Post('/register')
  async register(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const protectedByToken = this.options.initialAccessToken !== undefined;
    try {
      // Before anything else, the token check included: guessing the token is rate limited too.
      const decision = this.limiter.take(request.ip, Date.now());
      if (!decision.allowed) {
        reply.header('Retry-After', String(decision.retryAfterSeconds));
        throw new OAuthError('temporarily_unavailable', 'too many registrations from this address; retry later', {
          status: 429,
          mayRedirect: false,
        });
      }
      if (protectedByToken) {
        const presented = bearerToken(request, 'an initial access token is required');
        if (!constantTimeEqual(presented, this.options.initialAccessToken!)) {
          throw new OAuthError('invalid_token', 'a valid initial access token is required', { mayRedirect: false });
        }
      }
      const metadata = clientMetadataBody(request);
      const ctx = requestContext(this.options.tenant, request.headers, { kind: 'system', id: 'registration' });
      const result = await call(
        this.options.bus,
        RegisterClient,
        // Only a presented (and checked) initial access token authorizes what open registration
        // may not do (the password grant); the client-registry decides.
        { ctx, metadata, authorizedBy: protectedByToken ? 'initial_access_token' : 'open' },
        { timeoutMs: this.options.requestTimeoutMs },
      );
      reply
        .status(201)
        .header('Cache-Control', 'no-store')
        .header('Pragma', 'no-cache')
        .send(clientInformation(this.options.issuer, result.client, result));
    } catch (error) {
      sendOAuthError(reply, error, this.options.logger, protectedByToken ? { wwwAuthenticate: 'Bearer' } : {});
    }
  }
}
