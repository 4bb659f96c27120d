import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import { emphasize, escapeHtml, page } from './html.js';
import { messagesFor } from './i18n/catalogs.js';
import type { Locale } from './i18n/locale.js';
import { STANDARD_SCOPES, type Messages, type StandardScope } from './i18n/messages.js';
import { redirectDestination } from './redirect-host.js';

export interface ConsentRequest {
  rid: string;
  scope: string;
  /** The registered redirect URI the response (and the code) will be sent to. */
  redirectUri: string;
  /** The signed-in account's name (its preferred_username), so the user sees whose access it is. */
  account?: string | undefined;
}

const isStandardScope = (scope: string): scope is StandardScope => (STANDARD_SCOPES as readonly string[]).includes(scope);

function scopeItem(scope: string, t: Messages['consent']): string {
  const code = `<code>${escapeHtml(scope)}</code>`;
  return isStandardScope(scope) ? `<li>${escapeHtml(t.scopes[scope])} <span class="muted">(${code})</span></li>` : `<li>${code}</li>`;
}

/**
 * The consent form: who asks (client_name, else client_id), for what (each scope explained in
 * the user's language; API scopes such as `orders:read` shown as themselves), and where the
 * browser, and with it the code, goes next (the redirect URI's host). Everything is escaped.
 */
export function consentPage(client: ClientView, request: ConsentRequest, locale: Locale): string {
  const t = messagesFor(locale).consent;
  const items = request.scope
    .split(' ')
    .filter((s) => s !== '')
    .map((s) => scopeItem(s, t))
    .join('\n');
  return page(
    { title: t.title, lang: locale },
    `<h1>${emphasize(t.heading, client.clientName ?? client.clientId)}</h1>
${request.account !== undefined ? `<p id="account">${emphasize(t.account, request.account)}</p>\n` : ''}<p>${escapeHtml(t.intro)}</p>
<ul>
${items}
</ul>
<p id="destination">${emphasize(t.destination, redirectDestination(request.redirectUri))}</p>
<form method="post" action="/authorize/consent">
<input type="hidden" name="rid" value="${escapeHtml(request.rid)}">
<div class="actions">
<button type="submit" name="decision" value="allow" aria-describedby="destination">${escapeHtml(t.allow)}</button>
<button type="submit" name="decision" value="deny" class="secondary" aria-describedby="destination">${escapeHtml(t.deny)}</button>
</div>
</form>`,
  );
}
