import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import { emphasize, escapeHtml, page } from './html.js';
import { messagesFor } from './i18n/catalogs.js';
import type { Locale } from './i18n/locale.js';

/**
 * The login form: standard field names and autocomplete hints so password managers work; each
 * input has its label; the username is focused; a failed attempt is announced (`role="alert"`)
 * and bound to both fields with `aria-describedby`.
 */
export function loginPage(client: ClientView, rid: string, failed: boolean, locale: Locale, loginHint?: string): string {
  const t = messagesFor(locale).login;
  // OIDC Core §3.1.2.1 login_hint: the username is filled in, and the password field has focus.
  const hinted = loginHint !== undefined ? ` value="${escapeHtml(loginHint)}"` : '';
  const invalid = failed ? ' aria-invalid="true" aria-describedby="login-error"' : '';
  return page(
    { title: t.title, lang: locale },
    `<h1>${emphasize(t.heading, client.clientName ?? client.clientId)}</h1>
${failed ? `<p class="error" id="login-error" role="alert">${escapeHtml(t.failed)}</p>` : ''}
<form method="post" action="/authorize/login">
<input type="hidden" name="rid" value="${escapeHtml(rid)}">
<label for="username">${escapeHtml(t.username)}</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required${hinted}${loginHint === undefined ? ' autofocus' : ''}${invalid}>
<label for="password">${escapeHtml(t.password)}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${loginHint !== undefined ? ' autofocus' : ''}${invalid}>
<div class="actions"><button type="submit">${escapeHtml(t.submit)}</button></div>
</form>`,
  );
}
