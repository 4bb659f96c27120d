import { z } from 'zod';

/**
 * The one OAuth error (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7591 §3.2.2; OIDC Core §3.1.2.6).
 * `description` is for the client; `detail` is for operators and never leaves the server.
 */
export const OAuthErrorCode = z.enum([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'unsupported_response_type',
  'invalid_scope',
  /** RFC 8707 §2: a `resource` that is not an absolute URI, or not one this server issues for. */
  'invalid_target',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
  'invalid_token',
  'insufficient_scope',
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'login_required',
  'consent_required',
  'interaction_required',
  'request_not_supported',
  'request_uri_not_supported',
  'registration_not_supported',
]);
export type OAuthErrorCode = z.infer<typeof OAuthErrorCode>;

export const OAuthErrorBody = z.object({
  code: OAuthErrorCode,
  description: z.string().optional(),
  /** HTTP status the gateway answers with. */
  status: z.number().int().min(400).max(599),
  /** Whether this error may be sent to the client's redirect URI (never for a bad client or redirect URI). */
  mayRedirect: z.boolean(),
  /** Operator-only detail; logged, never rendered. */
  detail: z.string().optional(),
});
export type OAuthErrorBody = z.infer<typeof OAuthErrorBody>;

const DEFAULT_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  login_required: 400,
  consent_required: 400,
  interaction_required: 400,
  request_not_supported: 400,
  request_uri_not_supported: 400,
  registration_not_supported: 400,
};

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly status: number;
  readonly mayRedirect: boolean;
  readonly description: string | undefined;
  readonly detail: string | undefined;

  constructor(
    readonly code: OAuthErrorCode,
    description?: string,
    options: { status?: number; mayRedirect?: boolean; detail?: string } = {},
  ) {
    super(description ? `${code}: ${description}` : code);
    this.description = description;
    this.status = options.status ?? DEFAULT_STATUS[code];
    this.mayRedirect = options.mayRedirect ?? true;
    this.detail = options.detail;
  }

  toBody(): OAuthErrorBody {
    return {
      code: this.code,
      status: this.status,
      mayRedirect: this.mayRedirect,
      ...(this.description !== undefined ? { description: this.description } : {}),
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
    };
  }

  static fromBody(body: OAuthErrorBody): OAuthError {
    return new OAuthError(body.code, body.description, {
      status: body.status,
      mayRedirect: body.mayRedirect,
      ...(body.detail !== undefined ? { detail: body.detail } : {}),
    });
  }
}
