/**
 * Which language a page is shown in: OIDC Core §3.1.2.1 `ui_locales` first, then the
 * `Accept-Language` header (RFC 9110 §12.5.4), else English. Pure: strings in, a locale out.
 */

/** The languages with a catalog, in the order a wildcard (`*`) prefers them. */
export const SUPPORTED_LOCALES = ['en', 'de', 'fr'] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

/** BCP 47 shape, loosely (RFC 5646 §2.1): letters, then subtags of letters and digits. */
const LANGUAGE_TAG = /^[a-z]{1,8}(?:-[a-z0-9]{1,8})*$/;
/** RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ). */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;
/** Enough for any real preference list; a longer one is read only this far. */
const MAX_ENTRIES = 64;

export function chooseLocale(uiLocales: string | undefined, acceptLanguage: string | undefined): Locale {
  return fromUiLocales(uiLocales) ?? fromAcceptLanguage(acceptLanguage) ?? DEFAULT_LOCALE;
}

/** `ui_locales`: space-separated tags in order of preference; the first we speak wins. */
function fromUiLocales(uiLocales: string | undefined): Locale | undefined {
  if (uiLocales === undefined) return undefined;
  for (const tag of uiLocales.split(' ').slice(0, MAX_ENTRIES)) {
    const locale = lookup(tag.trim().toLowerCase());
    if (locale) return locale;
  }
  return undefined;
}

/** RFC 4647 §3.4 lookup, for languages we hold only as primary tags: `de-CH` falls back to `de`. */
function lookup(range: string): Locale | undefined {
  if (!LANGUAGE_TAG.test(range)) return undefined;
  const primary = range.split('-', 1)[0];
  return SUPPORTED_LOCALES.find((locale) => locale === primary);
}

interface WeightedRange {
  range: string;
  q: number;
}

/** The well-formed entries of an Accept-Language header; malformed ones are skipped, not fatal. */
export function parseAcceptLanguage(header: string): WeightedRange[] {
  const entries: WeightedRange[] = [];
  for (const element of header.split(',').slice(0, MAX_ENTRIES)) {
    const [rawRange = '', ...parameters] = element.split(';');
    const range = rawRange.trim().toLowerCase();
    if (range === '') continue;
    if (range !== '*' && !LANGUAGE_TAG.test(range)) continue;
    let q = 1;
    let valid = true;
    for (const parameter of parameters) {
      const [name = '', value = '', ...extra] = parameter.split('=').map((part) => part.trim());
      if (name.toLowerCase() !== 'q' || extra.length > 0 || !QVALUE.test(value)) {
        valid = false;
        break;
      }
      q = Number(value);
    }
    if (valid) entries.push({ range, q });
  }
  return entries;
}

function fromAcceptLanguage(header: string | undefined): Locale | undefined {
  if (header === undefined) return undefined;
  const entries = parseAcceptLanguage(header);
  // q=0 is "not acceptable" (RFC 9110 §12.4.2): an exact range that names one of our languages.
  const refused = new Set(entries.filter((e) => e.q === 0).map((e) => e.range));
  const named = new Set(entries.map((e) => e.range));
  // Highest weight first; equal weights keep the header's order (Array.prototype.sort is stable).
  const preferred = entries.filter((e) => e.q > 0).sort((a, b) => b.q - a.q);
  for (const { range } of preferred) {
    if (range === '*') {
      // RFC 4647 §2.1: the wildcard stands for any language the header does not name otherwise.
      const any = SUPPORTED_LOCALES.find((locale) => !named.has(locale) && !refused.has(locale));
      if (any) return any;
      continue;
    }
    const locale = lookup(range);
    if (locale && !refused.has(locale)) return locale;
  }
  return undefined;
}
