import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RegisterClient, type ClientView } from '../../../../contracts/messages/client-registry.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { findIllFormedText } from '../../../../contracts/well-formed-text.js';
import { call } from '../../../../infra/bus/typed.js';
import { constantTimeEqual } from '../../../../infra/crypto/secrets.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { requestContext } from '../../app/request-context.js';
import { CredentialsMissing, sendOAuthError } from './oauth-error.renderer.js';

/** Dynamic client registration (RFC 7591 §3). */
@Controller()
export class RegistrationController {
  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {}

  @Post('/register')
  async register(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const protectedByToken = this.options.initialAccessToken !== undefined;
    try {
      if (protectedByToken) {
        const header = request.headers.authorization ?? '';
        const presented = /^bearer /i.test(header) ? header.slice(7).trim() : '';
        if (!presented) throw new CredentialsMissing('an initial access token is required');
        if (!constantTimeEqual(presented, this.options.initialAccessToken!)) {
          throw new OAuthError('invalid_token', 'a valid initial access token is required', { mayRedirect: false });
        }
      }
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
        throw new OAuthError('invalid_client_metadata', 'the registration request must be application/json');
      }
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new OAuthError('invalid_client_metadata', 'the registration request must be a JSON object');
      }
      // JSON's \ud800 escapes can carry lone surrogates, which no event can hold (RFC 8785).
      const illFormed = findIllFormedText(body);
      if (illFormed !== undefined) {
        // The path names the caller's own keys: for the logs only (RFC 6749 §5.2 restricts the
        // characters of error_description).
        throw new OAuthError('invalid_client_metadata', 'the registration request holds text that is not well-formed Unicode', {
          detail: `at ${illFormed}`,
        });
      }
      const ctx = requestContext(this.options.tenant, request.headers, { kind: 'system', id: 'registration' });
      const result = await call(
        this.options.bus,
        RegisterClient,
        // Only a presented (and checked) initial access token authorizes what open registration
        // may not do (the password grant); the client-registry decides.
        { ctx, metadata: body as Record<string, unknown>, authorizedBy: protectedByToken ? 'initial_access_token' : 'open' },
        { timeoutMs: this.options.requestTimeoutMs },
      );
      reply
        .status(201)
        .header('Cache-Control', 'no-store')
        .header('Pragma', 'no-cache')
        .send(registrationResponse(result.client, result.clientSecret));
    } catch (error) {
      sendOAuthError(reply, error, this.options.logger, protectedByToken ? { wwwAuthenticate: 'Bearer' } : {});
    }
  }
}

/** RFC 7591 §3.2.1: the client information response. */
function registrationResponse(client: ClientView, clientSecret: string | undefined) {
  return {
    client_id: client.clientId,
    ...(clientSecret !== undefined ? { client_secret: clientSecret, client_secret_expires_at: 0 } : {}),
    client_id_issued_at: client.clientIdIssuedAt,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: client.responseTypes,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    application_type: client.applicationType,
    scope: client.scope,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    refresh_token_reuse_grace_seconds: client.refreshTokenReuseGraceSeconds,
    ...(client.clientName !== undefined ? { client_name: client.clientName } : {}),
  };
}
