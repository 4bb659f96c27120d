import { GRANT_TYPES } from '../../../../contracts/grants/index.js';
import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ACR_VALUES_SUPPORTED } from '../../../../contracts/acr.js';
import { ID_TOKEN_SIGNING_ALGS } from '../../../../contracts/events/client.js';
import { CLAIMS_SUPPORTED } from '../../../../contracts/claims.js';
import { SUPPORTED_SCOPES } from '../../../../contracts/scopes.js';
import { RESPONSE_MODES, RESPONSE_TYPES } from '../../../../contracts/response-types.js';
import { GetJwks, JWKS_MAX_AGE_SECONDS } from '../../../../contracts/messages/token-issuer.js';
import { call } from '../../../../infra/bus/typed.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { requestContext } from '../../app/request-context.js';
import { SUPPORTED_LOCALES } from '../pages/i18n/locale.js';
import { sendOAuthError } from './oauth-error.renderer.js';

/** OIDC Discovery 1.0 §3 and RFC 8414 §2, and the JWKS (RFC 7517). */
@Controller()
export class DiscoveryController {
  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {}

  @Get('/.well-known/openid-configuration')
  discovery(@Res() reply: FastifyReply) {
    const issuer = this.options.issuer;
    reply.header('Cache-Control', 'public, max-age=300').send({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      introspection_endpoint: `${issuer}/introspect`,
      revocation_endpoint: `${issuer}/revoke`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      introspection_signing_alg_values_supported: ['RS256'],
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      registration_endpoint: `${issuer}/register`,
      // OpenID Connect RP-Initiated Logout 1.0 §2.1 and Back-Channel Logout 1.0 §2.1.
      end_session_endpoint: `${issuer}/logout`,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      scopes_supported: [...SUPPORTED_SCOPES],
      response_types_supported: [...RESPONSE_TYPES],
      response_modes_supported: [...RESPONSE_MODES],
      grant_types_supported: [...GRANT_TYPES, 'implicit'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [...ID_TOKEN_SIGNING_ALGS],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      code_challenge_methods_supported: ['S256'],
      claims_supported: [...CLAIMS_SUPPORTED],
      claim_types_supported: ['normal'],
      acr_values_supported: [...ACR_VALUES_SUPPORTED],
      claims_parameter_supported: true,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      display_values_supported: ['page', 'popup', 'touch', 'wap'],
      authorization_response_iss_parameter_supported: true,
      // OIDC Discovery §3: the languages of the login, consent and error pages.
      ui_locales_supported: [...SUPPORTED_LOCALES],
    });
  }

  @Get('/jwks')
  async jwks(@Res() reply: FastifyReply) {
    try {
      const ctx = requestContext(this.options.tenant, {});
      const { keys } = await call(this.options.bus, GetJwks, { ctx }, { timeoutMs: this.options.requestTimeoutMs });
      reply.header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`).header('Content-Type', 'application/jwk-set+json').send({ keys });
    } catch (error) {
      sendOAuthError(reply, error, this.options.logger);
    }
  }
}
