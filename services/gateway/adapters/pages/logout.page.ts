import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import { escapeHtml, page } from './html.js';

/**
 * RP-Initiated Logout 1.0 §2: the OP asks the user whether to sign out when the request does not
 * prove it comes from the session's own relying party. The form carries a sealed token bound to
 * the session cookie (CSRF): a form of another browser or session is refused.
 */
export function logoutConfirmPage(client: ClientView | null, confirmation: string): string {
  const name = client ? escapeHtml(client.clientName ?? client.clientId) : null;
  return page(
    'Sign out',
    `<h1>Sign out?</h1>
<p>${name ? `<strong>${name}</strong> asks you to sign out.` : 'Do you want to sign out?'} You will be signed out of every application that uses this sign-in.</p>
<form method="post" action="/logout/confirm">
<input type="hidden" name="confirmation" value="${escapeHtml(confirmation)}">
<button type="submit" autofocus>Sign out</button>
</form>`,
  );
}

/** After a logout without a post_logout_redirect_uri: the user is told it is done. */
export function signedOutPage(client: ClientView | null): string {
  const name = client ? escapeHtml(client.clientName ?? client.clientId) : null;
  return page(
    'Signed out',
    `<h1>You are signed out</h1>
<p role="status">${name ? `You have signed out of <strong>${name}</strong> and this sign-in.` : 'You have signed out.'} You may close this window.</p>`,
  );
}
