import type { FastifyRequest } from 'fastify';
import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { findIllFormedText } from '../../../../contracts/well-formed-text.js';
import { CredentialsMissing } from './oauth-error.renderer.js';

/** RFC 7592 §3: where a client reads, updates and deletes its registration. */
export const registrationClientUri = (issuer: string, clientId: string) => `${issuer}/register/${encodeURIComponent(clientId)}`;

/**
 * RFC 7591 §3.2.1 and RFC 7592 §3: the client information response. A secret is in it only when
 * it was just issued (only its SHA-256 is kept); the registration access token is the one just
 * issued, or the one the request presented.
 */
export function clientInformation(
  issuer: string,
  client: ClientView,
  credentials: { clientSecret?: string | undefined; registrationAccessToken?: string | undefined },
) {
  return {
    client_id: client.clientId,
    ...(credentials.clientSecret !== undefined ? { client_secret: credentials.clientSecret, client_secret_expires_at: 0 } : {}),
    client_id_issued_at: client.clientIdIssuedAt,
    ...(credentials.registrationAccessToken !== undefined
      ? { registration_access_token: credentials.registrationAccessToken, registration_client_uri: registrationClientUri(issuer, client.clientId) }
      : {}),
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: client.responseTypes,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    application_type: client.applicationType,
    scope: client.scope,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    refresh_token_reuse_grace_seconds: client.refreshTokenReuseGraceSeconds,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    ...(client.backchannelLogoutUri !== null ? { backchannel_logout_uri: client.backchannelLogoutUri } : {}),
    backchannel_logout_session_required: client.backchannelLogoutSessionRequired,
    ...(client.clientName !== undefined ? { client_name: client.clientName } : {}),
  };
}

/** RFC 6750 §2.1: the bearer token of the Authorization header; none at all is CredentialsMissing. */
export function bearerToken(request: FastifyRequest, missing: string): string {
  const header = request.headers.authorization ?? '';
  const presented = /^bearer /i.test(header) ? header.slice(7).trim() : '';
  if (!presented) throw new CredentialsMissing(missing);
  return presented;
}

/** A registration or update request's body: a JSON object of well-formed text (RFC 7591 §3.1). */
export function clientMetadataBody(request: FastifyRequest): Record<string, unknown> {
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
  return body as Record<string, unknown>;
}
