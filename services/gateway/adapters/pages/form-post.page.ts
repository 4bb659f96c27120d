import { createHash } from 'node:crypto';
import { escapeHtml } from './html.js';

/** The one script of the page: submit the form at once. Allowed by its hash, nothing else runs. */
const SUBMIT_SCRIPT = 'document.forms[0].submit();';
const SUBMIT_SCRIPT_HASH = `'sha256-${createHash('sha256').update(SUBMIT_SCRIPT).digest('base64')}'`;

/**
 * OAuth 2.0 Form Post Response Mode §2: an HTML page that POSTs the authorization response to the
 * redirect URI. Without JavaScript the user presses the button.
 */
export function formPostPage(action: string, fields: Array<[string, string]>): string {
  const inputs = fields.map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`).join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Submit this form</title></head>
<body>
<form method="post" action="${escapeHtml(action)}">
${inputs}
<noscript><p>JavaScript is off: press the button to continue.</p><button type="submit">Continue</button></noscript>
</form>
<script>${SUBMIT_SCRIPT}</script>
</body>
</html>`;
}

/**
 * The CSP of the form_post page: exactly its own inline script, and a form that may post only to
 * the redirect URI (CSP 3 `form-action` with the URI's path; the query is not part of a match).
 */
export function formPostContentSecurityPolicy(action: string): string {
  const url = new URL(action);
  const target = `${url.protocol}//${url.host}${url.pathname}`;
  return `default-src 'none'; script-src ${SUBMIT_SCRIPT_HASH}; form-action ${target}; frame-ancestors 'none'; base-uri 'none'`;
}
