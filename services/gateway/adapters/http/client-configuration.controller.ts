import { Controller, Delete, Get, Inject, Param, Put, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DeleteClient, ReadClientConfiguration, UpdateClient } from '../../../../contracts/messages/client-registry.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { call } from '../../../../infra/bus/typed.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { requestContext } from '../../app/request-context.js';
import { bearerToken, clientInformation, clientMetadataBody } from './client-information.js';
import { sendOAuthError } from './oauth-error.renderer.js';

/** Server-issued fields a client copies back from a read (RFC 7592 §2.2 says it must not): ignored. */
const SERVER_ISSUED = ['registration_access_token', 'registration_client_uri', 'client_secret_expires_at', 'client_id_issued_at'];

/**
 * RFC 7592 client configuration endpoint, at each client's `registration_client_uri`, with its
 * registration access token as a bearer token. A missing client and a wrong token are both 401.
 */
@Controller()
export class ClientConfigurationController {
  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {}

  private context(request: FastifyRequest) {
    return requestContext(this.options.tenant, request.headers, { kind: 'system', id: 'client-configuration' });
  }

  private fail(reply: FastifyReply, error: unknown) {
    sendOAuthError(reply, error, this.options.logger, { wwwAuthenticate: 'Bearer' });
  }

  /** RFC 7592 §2.1 */
  @Get('/register/:clientId')
  async read(@Param('clientId') clientId: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const registrationAccessToken = bearerToken(request, 'the registration access token is required');
      const { client } = await call(
        this.options.bus,
        ReadClientConfiguration,
        { ctx: this.context(request), clientId, registrationAccessToken },
        { timeoutMs: this.options.requestTimeoutMs },
      );
      reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache').send(clientInformation(this.options.issuer, client, { registrationAccessToken }));
    } catch (error) {
      this.fail(reply, error);
    }
  }

  /**
   * RFC 7592 §2.2: the full metadata replaces the old (what is left out takes its default).
   * `client_secret`, if sent, must be the current one; the extension `rotate_client_secret: true`
   * asks for a new secret, in the response once, the old one refused from then on.
   */
  @Put('/register/:clientId')
  async update(@Param('clientId') clientId: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const registrationAccessToken = bearerToken(request, 'the registration access token is required');
      const body = clientMetadataBody(request);
      const { client_secret: clientSecret, rotate_client_secret: rotate, ...rest } = body;
      if (clientSecret !== undefined && typeof clientSecret !== 'string') {
        throw new OAuthError('invalid_client_metadata', 'client_secret must be a string');
      }
      if (rotate !== undefined && typeof rotate !== 'boolean') {
        throw new OAuthError('invalid_client_metadata', 'rotate_client_secret must be a boolean');
      }
      const metadata = Object.fromEntries(Object.entries(rest).filter(([key]) => !SERVER_ISSUED.includes(key)));
      const result = await call(
        this.options.bus,
        UpdateClient,
        { ctx: this.context(request), clientId, registrationAccessToken, metadata, clientSecret: clientSecret ?? null, rotateSecret: rotate ?? false },
        { timeoutMs: this.options.requestTimeoutMs },
      );
      reply
        .header('Cache-Control', 'no-store')
        .header('Pragma', 'no-cache')
        .send(clientInformation(this.options.issuer, result.client, { clientSecret: result.clientSecret, registrationAccessToken }));
    } catch (error) {
      this.fail(reply, error);
    }
  }

  /** RFC 7592 §2.3: 204; the client and every token it holds are gone from now on. */
  @Delete('/register/:clientId')
  async remove(@Param('clientId') clientId: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const registrationAccessToken = bearerToken(request, 'the registration access token is required');
      await call(
        this.options.bus,
        DeleteClient,
        { ctx: this.context(request), clientId, registrationAccessToken },
        { timeoutMs: this.options.requestTimeoutMs },
      );
      reply.status(204).header('Cache-Control', 'no-store').send();
    } catch (error) {
      this.fail(reply, error);
    }
  }
}
