import type { OAuthError } from '../../../../contracts/oauth-error.js';
import { escapeHtml, page } from './html.js';

/** Shown instead of redirecting when the client or redirect URI cannot be trusted (RFC 6749 §4.1.2.1). */
export function errorPage(error: OAuthError): string {
  return page(
    'Authorization error',
    `<h1>This request cannot be completed</h1>
<p class="error">Error: <code>${escapeHtml(error.code)}</code></p>
${error.description ? `<p>${escapeHtml(error.description)}</p>` : ''}`,
  );
}
