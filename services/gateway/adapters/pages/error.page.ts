import type { OAuthError } from '../../../../contracts/oauth-error.js';
import { errorReason } from './error-reason.js';
import { escapeHtml, page } from './html.js';
import { messagesFor } from './i18n/catalogs.js';
import type { Locale } from './i18n/locale.js';

/**
 * Shown instead of redirecting when the client or redirect URI cannot be trusted (RFC 6749
 * §4.1.2.1): a localized explanation for the person, then the RFC error code and description
 * for the application's developer. Never the error's operator-only `detail`.
 */
export function errorPage(error: OAuthError, locale: Locale): string {
  const t = messagesFor(locale).error;
  // The description is the RFC's English text for developers: marked as such for screen readers.
  const description = error.description ? ` <span lang="en">${escapeHtml(error.description)}</span>` : '';
  return page(
    { title: t.title, lang: locale },
    `<h1>${escapeHtml(t.heading)}</h1>
<p class="error" role="alert">${escapeHtml(t.reasons[errorReason(error)])}</p>
<p class="muted">${escapeHtml(t.technicalDetails)}: <code>${escapeHtml(error.code)}</code>${description}</p>`,
  );
}
