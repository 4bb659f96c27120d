import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { OAuthError } from '../../../../contracts/oauth-error.js';

/**
 * The one place that renders OAuth errors as JSON (RFC 6749 §5.2, RFC 6750 §3, RFC 7591 §3.2.2):
 * status, `{ error, error_description }`, `Cache-Control: no-store`, and `WWW-Authenticate` on
 * 401. Anything that is not an OAuthError becomes `server_error`; its cause goes to the log only.
 */
/**
 * RFC 6750 §3.1: a request that carries no credentials at all gets the bare challenge, without
 * an error code (it is not an error to not know that authentication is needed).
 */
export class CredentialsMissing extends OAuthError {
  constructor(description: string) {
    super('invalid_token', description, { status: 401, mayRedirect: false });
  }
}

export function sendOAuthError(
  reply: FastifyReply,
  error: unknown,
  logger: Logger,
  options: { wwwAuthenticate?: 'Basic' | 'Bearer' } = {},
): FastifyReply {
  const oauth = toOAuthError(error, logger);
  reply.status(oauth.status).header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
  if (oauth.status === 503) reply.header('Retry-After', '1');
  // RFC 6750 §3: a protected resource challenges on every refusal (400, 401, 403).
  if (oauth.status === 401 || (options.wwwAuthenticate === 'Bearer' && (oauth.status === 400 || oauth.status === 403))) {
    const scheme = options.wwwAuthenticate ?? 'Basic';
    const params = [`realm="idp"`];
    if (scheme === 'Bearer' && !(oauth instanceof CredentialsMissing)) {
      params.push(`error="${oauth.code}"`);
      if (oauth.description) params.push(`error_description="${describable(oauth.description)}"`);
    }
    reply.header('WWW-Authenticate', `${scheme} ${params.join(', ')}`);
  }
  // RFC 6750 §3.1: no error information at all when no credentials were presented.
  if (oauth instanceof CredentialsMissing) return reply.send({});
  return reply.send({
    error: oauth.code,
    ...(oauth.description !== undefined ? { error_description: describable(oauth.description) } : {}),
  });
}

/** How long an `error_description` may be: enough for any of ours, not an echo of a huge input. */
const MAX_DESCRIPTION_LENGTH = 200;

/**
 * RFC 6749 §5.2 (and RFC 6750 §3): `error_description` holds only %x20-21 / %x23-5B / %x5D-7E.
 * Descriptions that quote the request (an unsupported grant_type, a refused scope, a repeated
 * parameter's name) would otherwise carry non-ASCII, quotes, backslashes or line breaks: a quote
 * becomes an apostrophe, any other character outside the set a `?`, and a long one is cut.
 */
export function describable(description: string): string {
  const allowed = description.replaceAll('"', "'").replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/gu, '?');
  return allowed.length > MAX_DESCRIPTION_LENGTH ? `${allowed.slice(0, MAX_DESCRIPTION_LENGTH - 3)}...` : allowed;
}

export function toOAuthError(error: unknown, logger: Logger): OAuthError {
  if (error instanceof OAuthError) {
    if (error.detail) logger.info({ oauthError: error.code, detail: error.detail }, 'oauth error');
    return error;
  }
  logger.error({ err: error }, 'unexpected error');
  return new OAuthError('server_error', 'internal error', { mayRedirect: false });
}
