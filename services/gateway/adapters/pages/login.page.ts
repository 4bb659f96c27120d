import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import { escapeHtml, page } from './html.js';

/** The login form: standard field names and autocomplete hints so password managers work. */
export function loginPage(client: ClientView, rid: string, failed: boolean): string {
  const name = escapeHtml(client.clientName ?? client.clientId);
  return page(
    'Sign in',
    `<h1>Sign in to continue to ${name}</h1>
${failed ? '<p class="error" role="alert">Invalid username or password.</p>' : ''}
<form method="post" action="/authorize/login">
<input type="hidden" name="rid" value="${escapeHtml(rid)}">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}
