import type { ClientView } from '../../contracts/messages/client-registry.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { errorPage } from '../../services/gateway/adapters/pages/error.page.js';
import { messagesFor } from '../../services/gateway/adapters/pages/i18n/catalogs.js';
import { SUPPORTED_LOCALES } from '../../services/gateway/adapters/pages/i18n/locale.js';
import { logoutConfirmPage, signedOutPage } from '../../services/gateway/adapters/pages/logout.page.js';

/** The logout pages (RP-Initiated Logout 1.0 §2) in every language, escaped, with a real form. */
const client = (over: Partial<ClientView> = {}): ClientView => ({
  clientId: 'c-123',
  clientName: 'Example App',
  applicationType: 'web',
  redirectUris: ['https://rp.example.test/cb'],
  grantTypes: ['authorization_code'],
  responseTypes: ['code'],
  tokenEndpointAuthMethod: 'client_secret_basic',
  scope: 'openid',
  idTokenSignedResponseAlg: 'RS256',
  refreshTokenReuseGraceSeconds: 0,
  postLogoutRedirectUris: [],
  backchannelLogoutUri: null,
  backchannelLogoutSessionRequired: false,
  clientIdIssuedAt: 0,
  ...over,
});
const MARKUP = `<script>alert("x")</script>`;
const html = (text: string) => text.replaceAll("'", '&#39;');

describe.each(SUPPORTED_LOCALES)('logout pages in %s', (locale) => {
  const t = messagesFor(locale).logout;

  it('confirmation: names the asking client, posts the sealed token to /logout/confirm with one focused button', () => {
    const page = logoutConfirmPage(client(), 'tok.en', locale);
    expect(page).toMatch(new RegExp(`<html lang="${locale}">`));
    expect(page).toContain(`<title>${html(t.confirmTitle)}</title>`);
    expect(page).toContain('<strong>Example App</strong>');
    expect(page).toContain('<form method="post" action="/logout/confirm"');
    expect(page).toContain('<input type="hidden" name="confirmation" value="tok.en">');
    expect(page).toContain(`<button type="submit" autofocus>${html(t.confirmSubmit)}</button>`);
    expect(logoutConfirmPage(null, 'tok', locale)).toContain(html(t.confirmQuestion));
  });

  it('signed out: says so, naming the client when there is one', () => {
    expect(signedOutPage(client({ clientName: undefined }), locale)).toContain('<strong>c-123</strong>');
    const page = signedOutPage(null, locale);
    expect(page).toContain(`<h1>${html(t.signedOutHeading)}</h1>`);
    expect(page).toContain(html(t.signedOutText));
  });

  it('client names and the token are escaped', () => {
    for (const page of [logoutConfirmPage(client({ clientName: MARKUP }), `"><script>x</script>`, locale), signedOutPage(client({ clientName: MARKUP }), locale)]) {
      expect(page).not.toContain('<script>');
      expect(page).toContain('&lt;script&gt;');
    }
  });

  it('a refused confirmation explains itself in this language', () => {
    const page = errorPage(new OAuthError('invalid_request', 'the logout confirmation is missing, invalid or expired', { mayRedirect: false }), locale);
    expect(page).toContain(html(messagesFor(locale).error.reasons.logout_form_invalid));
  });
});
