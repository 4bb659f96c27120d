import type { OAuthError } from '../../../../contracts/oauth-error.js';
import type { ErrorReason } from './i18n/messages.js';

/**
 * Which human explanation fits an error shown on the error page (the ones that cannot go back to
 * the client: RFC 6749 §4.1.2.1). Told apart by code, and for `invalid_request` by the
 * description the gateway gives it; an unknown description falls back to the generic text.
 */
export function errorReason(error: OAuthError): ErrorReason {
  switch (error.code) {
    case 'temporarily_unavailable':
      return 'temporarily_unavailable';
    case 'server_error':
      return 'server_error';
    case 'invalid_request':
    case 'invalid_client':
      return invalidRequestReason(error.description ?? '');
    default:
      return 'other';
  }
}

function invalidRequestReason(description: string): ErrorReason {
  if (/logout confirmation/i.test(description)) return 'logout_form_invalid';
  if (/expired|is missing/i.test(description)) return 'request_expired';
  if (/form does not match/i.test(description)) return 'form_mismatch';
  if (/redirect_uri is not registered/i.test(description)) return 'untrusted_redirect_uri';
  if (/unknown client_id|client is no longer valid/i.test(description)) return 'unknown_client';
  return 'invalid_request';
}
