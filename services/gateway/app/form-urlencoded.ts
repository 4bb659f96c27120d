import { OAuthError } from '../../../contracts/oauth-error.js';

/**
 * Request bodies as bytes to text, strictly (RFC 6749 Appendix B, RFC 8259 §8.1): UTF-8 that
 * is not well-formed, and form bodies whose percent-encoding is broken or encodes anything but
 * UTF-8, are refused (`invalid_request`) rather than read with U+FFFD or kept as literal "%ZZ":
 * a value the client did not send must never reach a decision or the log.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

const malformed = (description: string) => new OAuthError('invalid_request', description, { status: 400, mayRedirect: false });

/** The body's bytes as text, or `invalid_request` when they are not well-formed UTF-8. */
export function decodeUtf8Body(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw malformed('the request body is not well-formed UTF-8');
  }
}

/**
 * `application/x-www-form-urlencoded` (WHATWG URL §5.1, strict): name=value pairs separated by
 * `&`, `+` for a space, `%XX` for a byte, the bytes UTF-8. A repeated name gives its values in
 * order (the callers decide which names may repeat). The result has no prototype, and a
 * `__proto__` name is refused, as the framework's JSON parser does.
 */
export function decodeFormUrlencoded(bytes: Uint8Array): Record<string, string | string[]> {
  const text = decodeUtf8Body(bytes);
  const form: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decodeComponent(equals < 0 ? pair : pair.slice(0, equals));
    const value = equals < 0 ? '' : decodeComponent(pair.slice(equals + 1));
    if (name === '__proto__') throw malformed('the parameter name __proto__ is not allowed');
    const previous = form[name];
    form[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return form;
}

function decodeComponent(encoded: string): string {
  try {
    // decodeURIComponent refuses a `%` without two hex digits and bytes that are not UTF-8
    // (overlong forms and UTF-16 surrogates included).
    return decodeURIComponent(encoded.replaceAll('+', ' '));
  } catch {
    throw malformed('the form body has a broken percent-encoding or bytes that are not UTF-8');
  }
}
