import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import { emphasize, escapeHtml, page } from './html.js';
import { messagesFor } from './i18n/catalogs.js';
import type { Locale } from './i18n/locale.js';

const clientName = (client: ClientView) => client.clientName ?? client.clientId;

/**
 * RP-Initiated Logout 1.0 §2: the OP asks the user whether to sign out when the request does not
 * prove it comes from the session's own relying party. The form carries a sealed token bound to
 * the session cookie (CSRF): a form of another browser or session is refused. Everything the
 * client supplies is escaped.
 */
export function logoutConfirmPage(client: ClientView | null, confirmation: string, locale: Locale): string {
  const t = messagesFor(locale).logout;
  const asking = client ? emphasize(t.confirmAskedBy, clientName(client)) : escapeHtml(t.confirmQuestion);
  return page(
    { title: t.confirmTitle, lang: locale },
    `<h1>${escapeHtml(t.confirmHeading)}</h1>
<p>${asking}</p>
<p id="logout-effect">${escapeHtml(t.confirmEffect)}</p>
<form method="post" action="/logout/confirm" aria-describedby="logout-effect">
<input type="hidden" name="confirmation" value="${escapeHtml(confirmation)}">
<div class="actions"><button type="submit" autofocus>${escapeHtml(t.confirmSubmit)}</button></div>
</form>`,
  );
}

/** After a logout without a post_logout_redirect_uri: the user is told it is done. */
export function signedOutPage(client: ClientView | null, locale: Locale): string {
  const t = messagesFor(locale).logout;
  return page(
    { title: t.signedOutTitle, lang: locale },
    `<h1>${escapeHtml(t.signedOutHeading)}</h1>
<p role="status">${client ? `${emphasize(t.signedOutOf, clientName(client))} ` : ''}${escapeHtml(t.signedOutText)}</p>`,
  );
}
