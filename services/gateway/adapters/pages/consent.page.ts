import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import { escapeHtml, page } from './html.js';

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Sign you in with your account',
  profile: 'Read your name and username',
  email: 'Read your email address',
};

export function consentPage(client: ClientView, rid: string, scope: string): string {
  const name = escapeHtml(client.clientName ?? client.clientId);
  const items = scope
    .split(' ')
    .map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)} <small>(${escapeHtml(s)})</small></li>`)
    .join('\n');
  return page(
    'Authorize access',
    `<h1>${name} asks for access</h1>
<p>It wants to:</p>
<ul>
${items}
</ul>
<form method="post" action="/authorize/consent">
<input type="hidden" name="rid" value="${escapeHtml(rid)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}
