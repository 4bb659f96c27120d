import type { ClientView } from '../../contracts/messages/client-registry.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { consentPage } from '../../services/gateway/adapters/pages/consent.page.js';
import { errorPage } from '../../services/gateway/adapters/pages/error.page.js';
import { messagesFor } from '../../services/gateway/adapters/pages/i18n/catalogs.js';
import { SUPPORTED_LOCALES, type Locale } from '../../services/gateway/adapters/pages/i18n/locale.js';
import { ERROR_REASONS, STANDARD_SCOPES, type Messages } from '../../services/gateway/adapters/pages/i18n/messages.js';
import { loginPage } from '../../services/gateway/adapters/pages/login.page.js';
import { logoutConfirmPage, signedOutPage } from '../../services/gateway/adapters/pages/logout.page.js';
import { PALETTE } from '../../services/gateway/adapters/pages/palette.js';

/**
 * The login, consent and error pages in every language: nothing left untranslated, `<html
 * lang>`, every input labelled, the first field focused, failures announced, everything the
 * client or the request supplies escaped, nothing loaded from elsewhere.
 */
const client = (over: Partial<ClientView> = {}): ClientView => ({
  clientId: 'c-123',
  clientName: 'Example App',
  applicationType: 'web',
  redirectUris: ['https://rp.example.test/cb'],
  grantTypes: ['authorization_code'],
  responseTypes: ['code'],
  tokenEndpointAuthMethod: 'client_secret_basic',
  scope: 'openid profile email',
  idTokenSignedResponseAlg: 'RS256',
  refreshTokenReuseGraceSeconds: 0,
  postLogoutRedirectUris: [],
  backchannelLogoutUri: null,
  backchannelLogoutSessionRequired: false,
  clientIdIssuedAt: 1_700_000_000,
  ...over,
});
const consentRequest = { rid: 'rid-1', scope: 'openid profile email address phone offline_access orders:read', redirectUri: 'https://rp.example.test:8443/cb?x=1' };
const MARKUP = `<script>alert("x")</script><img src=x onerror='y'>&amp;`;

/** Every string of a catalog, functions called with a marker, by path. */
function leaves(messages: unknown, path = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof messages === 'string') out.set(path, messages);
  else if (typeof messages === 'function') out.set(path, (messages as (v: string) => string)('{x}'));
  else for (const [key, value] of Object.entries(messages as object)) for (const [p, v] of leaves(value, `${path}.${key}`)) out.set(p, v);
  return out;
}

function pagesIn(locale: Locale): Array<[string, string]> {
  return [
    ['login', loginPage(client(), 'rid-1', false, locale)],
    ['failed login', loginPage(client(), 'rid-1', true, locale)],
    ['consent', consentPage(client(), consentRequest, locale)],
    ['error', errorPage(new OAuthError('invalid_request', 'unknown client_id', { mayRedirect: false }), locale)],
    ['logout confirmation', logoutConfirmPage(client(), 'sealed-token', locale)],
    ['logout confirmation without a client', logoutConfirmPage(null, 'sealed-token', locale)],
    ['signed out', signedOutPage(client(), locale)],
    ['signed out without a client', signedOutPage(null, locale)],
  ];
}

const tags = (html: string, name: string) => html.match(new RegExp(`<${name}\\b[^>]*>`, 'gi')) ?? [];
const attr = (tag: string, name: string) => new RegExp(`\\s${name}(?:="([^"]*)")?[\\s>]`, 'i').exec(tag);
const visibleInputs = (html: string) => tags(html, 'input').filter((t) => attr(t, 'type')?.[1] !== 'hidden');
/** The page's text without tags, style and entities' markup: what a reader sees. */
const text = (html: string) => html.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<[^>]+>/g, ' ');

describe('catalogs', () => {
  const english = leaves(messagesFor('en'));

  it.each(SUPPORTED_LOCALES.filter((l) => l !== 'en'))('%s translates every English string (none left equal)', (locale) => {
    const translated = leaves(messagesFor(locale));
    expect([...translated.keys()].sort()).toEqual([...english.keys()].sort());
    const untranslated = [...translated].filter(([path, value]) => value === english.get(path) || value.trim() === '');
    expect(untranslated).toEqual([]);
  });

  it.each(SUPPORTED_LOCALES)('%s explains every standard scope and every error reason', (locale) => {
    const m: Messages = messagesFor(locale);
    for (const scope of STANDARD_SCOPES) expect(m.consent.scopes[scope]).toMatch(/\S/);
    for (const reason of ERROR_REASONS) expect(m.error.reasons[reason]).toMatch(/\S/);
    // A sentence around a value keeps the value.
    expect(m.login.heading('VALUE')).toContain('VALUE');
    expect(m.consent.heading('VALUE')).toContain('VALUE');
    expect(m.consent.destination('VALUE')).toContain('VALUE');
  });
});

describe.each(SUPPORTED_LOCALES)('pages in %s', (locale) => {
  const m = messagesFor(locale);
  const foreign = SUPPORTED_LOCALES.filter((l) => l !== locale).map((l) => messagesFor(l));

  it.each(pagesIn(locale))('%s: lang attribute, viewport, title, no other language, nothing external', (_kind, html) => {
    expect(html).toMatch(new RegExp(`^<!doctype html>\\s*<html lang="${locale}">`));
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toMatch(/<title>[^<]+<\/title>/);
    // No button, label or heading from another language's catalog.
    for (const other of foreign) {
      for (const s of [other.login.submit, other.login.username, other.consent.allow, other.consent.deny, other.error.heading]) {
        expect(text(html)).not.toContain(s);
      }
    }
    // CSP default-src 'none': no scripts, no external styles, images or fonts.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\(|@import|\son[a-z]+=/i);
    expect(html).not.toMatch(/(?:src|href)=/i);
  });

  it('login: title says sign-in, every input labelled, the first focused, the button real', () => {
    const html = loginPage(client(), 'rid-1', false, locale);
    expect(html).toContain(`<title>${m.login.title}</title>`);
    const inputs = visibleInputs(html);
    expect(inputs).toHaveLength(2);
    for (const input of inputs) {
      const id = attr(input, 'id')?.[1];
      expect(id).toBeTruthy();
      expect(html).toContain(`<label for="${id}">`);
      expect(tags(html, 'label').filter((l) => l.includes(`for="${id}"`))).toHaveLength(1);
    }
    expect(attr(inputs[0]!, 'autofocus')).not.toBeNull();
    expect(html.match(/\sautofocus/g)).toHaveLength(1);
    expect(html).toContain(`<button type="submit">${m.login.submit}</button>`);
    expect(html).not.toContain('role="alert"');
    expect(inputs.some((input) => /aria-invalid|aria-describedby/.test(input))).toBe(false);
  });

  it('failed login: the message is announced and bound to the fields', () => {
    const html = loginPage(client(), 'rid-1', true, locale);
    const alert = tags(html, 'p').find((p) => p.includes('role="alert"'));
    expect(alert).toBeDefined();
    const id = attr(alert!, 'id')?.[1];
    expect(id).toBeTruthy();
    expect(html).toContain(m.login.failed.replaceAll("'", '&#39;'));
    for (const input of visibleInputs(html)) {
      expect(attr(input, 'aria-describedby')?.[1]).toBe(id);
      expect(attr(input, 'aria-invalid')?.[1]).toBe('true');
    }
  });

  it('consent: names the client, the redirect host, and each scope in this language', () => {
    const html = consentPage(client(), consentRequest, locale);
    expect(html).toContain(`<title>${m.consent.title.replaceAll("'", '&#39;')}</title>`);
    expect(html).toContain('<strong>Example App</strong>');
    expect(html).toContain('<strong>rp.example.test:8443</strong>');
    for (const scope of STANDARD_SCOPES) expect(html).toContain(m.consent.scopes[scope].replaceAll("'", '&#39;'));
    // An API scope is shown as itself.
    expect(html).toContain('<li><code>orders:read</code></li>');
    const buttons = tags(html, 'button');
    expect(buttons).toHaveLength(2);
    expect(buttons.every((b) => b.includes('type="submit"') && b.includes('name="decision"'))).toBe(true);
    expect(html).toContain(`value="allow" aria-describedby="destination">${m.consent.allow}</button>`);
    expect(html).toContain(`value="deny" class="secondary" aria-describedby="destination">${m.consent.deny}</button>`);
    // Each button is described by where it sends the browser.
    expect(tags(html, 'p').find((p) => p.includes('id="destination"'))).toBeDefined();
  });

  it('consent: the client_id stands in for a missing client_name', () => {
    const html = consentPage(client({ clientName: undefined }), consentRequest, locale);
    expect(html).toContain('<strong>c-123</strong>');
  });

  it('client name, client id, scope, rid and redirect URI are escaped', () => {
    const hostile = client({ clientName: MARKUP, clientId: MARKUP });
    const pages = [
      loginPage(hostile, `"><script>x</script>`, true, locale),
      consentPage(hostile, { rid: `"><script>x</script>`, scope: `openid ${MARKUP}`, redirectUri: `${MARKUP}` }, locale),
      errorPage(new OAuthError('invalid_request', MARKUP, { mayRedirect: false }), locale),
      consentPage(client({ clientName: undefined, clientId: MARKUP }), consentRequest, locale),
    ];
    for (const html of pages) {
      expect(html).not.toContain('<script>');
      expect(html).not.toContain('<img');
      expect(html).not.toMatch(/"><script/);
    }
    expect(pages[0]).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&amp;amp;');
    expect(pages[0]).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
  });

  it('error page: a human message in this language, the RFC code for developers, never the private detail', () => {
    const cases: Array<[OAuthError, keyof Messages['error']['reasons']]> = [
      [new OAuthError('invalid_request', 'the authorization request expired or is missing; start again', { mayRedirect: false }), 'request_expired'],
      [new OAuthError('invalid_request', 'the form does not match the pending authorization request', { mayRedirect: false }), 'form_mismatch'],
      [new OAuthError('invalid_request', 'unknown client_id', { mayRedirect: false }), 'unknown_client'],
      [new OAuthError('invalid_request', 'redirect_uri is not registered for this client', { mayRedirect: false }), 'untrusted_redirect_uri'],
      [new OAuthError('invalid_request', 'client_id is repeated', { mayRedirect: false }), 'invalid_request'],
      [new OAuthError('invalid_request', 'redirect_uri is required', { mayRedirect: false }), 'invalid_request'],
      [new OAuthError('invalid_request', 'the client is no longer valid', { mayRedirect: false }), 'unknown_client'],
      [new OAuthError('invalid_request', 'something new', { mayRedirect: false }), 'invalid_request'],
      [new OAuthError('temporarily_unavailable', 'the service did not answer', { detail: 'bus timeout on idp.authn.login after 5000 ms' }), 'temporarily_unavailable'],
      [new OAuthError('server_error', 'internal error', { detail: 'TypeError: cannot read x of undefined at /srv/app.js:12' }), 'server_error'],
      [new OAuthError('access_denied', 'the user denied the request'), 'other'],
    ];
    for (const [error, reason] of cases) {
      const html = errorPage(error, locale);
      expect(html).toContain(`<title>${m.error.title}</title>`);
      expect(html).toContain(`role="alert">${m.error.reasons[reason].replaceAll("'", '&#39;')}</p>`);
      expect(html).toContain(`<code>${error.code}</code>`);
      if (error.detail) expect(html).not.toContain(error.detail);
      expect(html).not.toMatch(/TypeError|\/srv\/|stack/);
    }
  });
});

describe('style', () => {
  it('uses only the colours written down in the palette (which the contrast test checks)', () => {
    const html = loginPage(client(), 'rid', true, 'en') + consentPage(client(), consentRequest, 'en') + errorPage(new OAuthError('server_error'), 'en');
    const colours = new Set((html.match(/#[0-9a-f]{3,8}\b/gi) ?? []).map((c) => c.toLowerCase()));
    const known = new Set(Object.values(PALETTE).map((c) => c.toLowerCase()));
    expect([...colours].filter((c) => !known.has(c))).toEqual([]);
    expect(colours.size).toBeGreaterThan(5);
  });

  it('fits a 320 px screen: no fixed widths beyond the card, which may shrink', () => {
    const html = loginPage(client(), 'rid', false, 'en');
    expect(html).toMatch(/main\{[^}]*width:100%;max-width:26rem/);
    expect(html).toMatch(/@media \(max-width:30rem\)/);
    // No width in px or a fixed rem width other than max-width.
    expect(html).not.toMatch(/[^-]width:\d+(?:\.\d+)?(?:px|rem)/);
  });
});
