import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { sendOAuthError } from './oauth-error.renderer.js';

/**
 * What fails before a controller runs (malformed JSON or form bodies, a body over the limit, an
 * unknown route) still answers as an OAuth error (DESIGN §10): `invalid_request` with the HTTP
 * status that says what happened, `Cache-Control: no-store`, never Nest's own error shape.
 */
@Catch()
export class EdgeErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const status = statusOf(exception);
    if (status === 404) {
      reply.status(404).header('Cache-Control', 'no-store').send({ error: 'not_found' });
      return;
    }
    if (status !== undefined && status >= 400 && status < 500) {
      const description =
        status === 413 ? 'the request body is too large' : status === 415 ? 'unsupported content type' : 'malformed request';
      // A body in the wrong format is the client's malformed request: 400 (RFC 6749 §5.2, RFC 7591
      // §3.2.2), not the framework's 415. Size limits keep their own status (413, 431).
      const answer = status === 415 ? 400 : status;
      sendOAuthError(reply, new OAuthError('invalid_request', description, { status: answer, mayRedirect: false }), this.logger);
      return;
    }
    sendOAuthError(reply, exception, this.logger);
  }
}

function statusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' ? statusCode : undefined;
}
