import { chooseLocale, parseAcceptLanguage } from '../../services/gateway/adapters/pages/i18n/locale.js';

/**
 * Which language the login, consent and error pages speak: OIDC Core §3.1.2.1 `ui_locales`
 * (space-separated BCP 47 tags, in order of preference) first, then Accept-Language with its
 * weights (RFC 9110 §12.5.4, RFC 4647 lookup), else English.
 */
describe('chooseLocale', () => {
  it.each<[string, string | undefined, string | undefined, string]>([
    ['nothing asked: English', undefined, undefined, 'en'],
    ['empty values: English', '', '', 'en'],
    ['ui_locales alone', 'de', undefined, 'de'],
    ['ui_locales in its order, first supported wins', 'ja fr de', undefined, 'fr'],
    ['ui_locales order, not alphabetical', 'fr-CA de en', undefined, 'fr'],
    ['ui_locales region falls back to the language', 'de-CH', undefined, 'de'],
    ['ui_locales script and region subtags', 'zh-Hant-TW de-Latn-AT', undefined, 'de'],
    ['ui_locales is case-insensitive', 'DE-ch', undefined, 'de'],
    ['ui_locales beats Accept-Language', 'de', 'fr, en;q=0.9', 'de'],
    ['unsupported ui_locales defer to Accept-Language', 'ja ko', 'fr', 'fr'],
    ['extra spaces in ui_locales', '  ja   de ', undefined, 'de'],
    ['Accept-Language without weights: order', undefined, 'de, fr', 'de'],
    ['Accept-Language q-values rank', undefined, 'fr;q=0.9, de;q=0.8', 'fr'],
    ['Accept-Language q-values rank over order', undefined, 'de;q=0.5, fr;q=0.9', 'fr'],
    ['missing q is 1', undefined, 'en;q=0.5, de', 'de'],
    ['equal q keeps header order', undefined, 'fr;q=0.5, de;q=0.5', 'fr'],
    ['region fallback: de-CH is German', undefined, 'de-CH, en;q=0.5', 'de'],
    ['region fallback with weights', undefined, 'es-ES, de-AT;q=0.8, en;q=0.7', 'de'],
    ['unsupported only: English', undefined, 'ja, zh-CN;q=0.8', 'en'],
    ['q=0 refuses a language', undefined, 'fr;q=0, de;q=0.1', 'de'],
    ['q=0.000 refuses too', undefined, 'de;q=0.000, fr;q=0.2', 'fr'],
    ['q=0 refusal beats a region match of the same language', undefined, 'de-CH, de;q=0, fr;q=0.1', 'fr'],
    ['everything refused: English all the same', undefined, 'de;q=0, fr;q=0', 'en'],
    ['wildcard: the first language not named otherwise', undefined, '*', 'en'],
    ['wildcard skips refused and lower-weighted named languages', undefined, 'ja, *;q=0.5, en;q=0.1, de;q=0', 'fr'],
    ['a named language above the wildcard wins', undefined, 'fr;q=0.9, *;q=0.5', 'fr'],
    ['wildcard refused: the named language', undefined, 'de, *;q=0', 'de'],
    ['whitespace around parts', undefined, '  fr ;  q=0.7 ,de ; q=0.6 ', 'fr'],
    ['Q in upper case', undefined, 'de;Q=0.9, fr;Q=0.2', 'de'],
    ['garbage header', undefined, ';;;,,,=q', 'en'],
    ['garbage entries are skipped, good ones used', undefined, '<script>, de;q=abc, 12, fr;q=0.4', 'fr'],
    ['q above 1 is malformed and skipped', undefined, 'de;q=2, fr;q=0.5', 'fr'],
    ['q with four decimals is malformed', undefined, 'de;q=0.1234, fr;q=0.1', 'fr'],
    ['unknown parameters make the entry malformed', undefined, 'de;level=1, fr;q=0.1', 'fr'],
    ['garbage ui_locales defers to the header', '<b>de</b> ../../etc', 'de', 'de'],
    ['tags longer than 8 characters per subtag are not tags', 'deutschland', 'fr', 'fr'],
  ])('%s', (_name, uiLocales, acceptLanguage, expected) => {
    expect(chooseLocale(uiLocales, acceptLanguage)).toBe(expected);
  });

  it('a huge header is read only as far as a real preference list goes', () => {
    const header = `${Array.from({ length: 5000 }, (_, i) => `x${i % 100}`).join(', ')}, de`;
    expect(parseAcceptLanguage(header).length).toBeLessThanOrEqual(64);
    expect(chooseLocale(undefined, header)).toBe('en');
    expect(chooseLocale(`${'ja '.repeat(5000)}de`, undefined)).toBe('en');
  });
});
