import type { Locale } from './i18n/locale.js';
import { PALETTE as C } from './palette.js';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * All styling is inline: the pages' CSP is `default-src 'none'; style-src 'unsafe-inline'`, so no
 * external resource and no script may load. The card fills narrow screens (320 px) and is at
 * most 26rem wide elsewhere; text sizes are in rem so browser zoom and font settings apply.
 */
const STYLE = `
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1rem;line-height:1.5;color:${C.text};background:${C.pageBackground};margin:0;padding:1rem;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:${C.cardBackground};padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);width:100%;max-width:26rem;overflow-wrap:anywhere}
h1{font-size:1.3rem;line-height:1.3;margin:0 0 1rem}
label{display:block;margin:.9rem 0 .3rem;font-weight:600}
input[type=text],input[type=password]{width:100%;padding:.6rem;font-size:1rem;border:1px solid ${C.inputBorder};border-radius:4px;color:${C.text};background:${C.cardBackground}}
input[aria-invalid=true]{border-color:${C.errorText}}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.5rem}
button{flex:1 1 8rem;min-height:2.75rem;padding:.6rem 1.2rem;font-size:1rem;font-weight:600;border-radius:4px;border:2px solid ${C.primaryButton};background:${C.primaryButton};color:${C.primaryButtonText};cursor:pointer}
button.secondary{background:${C.secondaryButton};color:${C.secondaryButtonText}}
:focus-visible{outline:3px solid ${C.focusRing};outline-offset:2px}
.error{color:${C.errorText};background:${C.errorBackground};padding:.6rem .8rem;border-radius:4px}
.muted{color:${C.mutedText}}
code{background:${C.codeBackground};padding:0 .2rem;border-radius:3px}
ul{padding-left:1.2rem}li{margin:.3rem 0}
@media (max-width:30rem){body{padding:.5rem;align-items:flex-start}main{padding:1.25rem}}
`;

export interface PageOptions {
  title: string;
  /** `<html lang>`; also the Content-Language the caller sends. Defaults to English. */
  lang?: Locale;
}

export function page(options: PageOptions | string, body: string): string {
  const { title, lang = 'en' } = typeof options === 'string' ? { title: options } : options;
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body><main>
${body}
</main></body>
</html>`;
}

const SLOT = '\u0000';

/**
 * A localized sentence around one value, both escaped, the value in `<strong>`: the catalog
 * function is called with a placeholder, so the sentence may put the value anywhere.
 */
export function emphasize(sentence: (value: string) => string, value: string): string {
  return escapeHtml(sentence(SLOT)).split(SLOT).join(`<strong>${escapeHtml(value)}</strong>`);
}
