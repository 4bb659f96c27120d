import fc from 'fast-check';

/**
 * The building blocks of hostile input: text (printable, any code point, lone surrogates,
 * control characters, huge), bytes that are not UTF-8, JWT-shaped strings, and the
 * percent-encodings that carry them in a query or a form.
 */

/** Values a parser may treat specially. */
const SPECIAL_WORDS = [
  '', ' ', '\0', '\t', 'null', 'undefined', 'true', '0', '-1', '1e309', 'NaN', '[]', '{}', '__proto__', 'constructor',
  'prototype', 'toString', 'hasOwnProperty', '%', '%00', '%ZZ', '%E2%82', '\ud800', '\udfff', 'a\ud800b', '\u202e', '\ufeff',
  '../../etc/passwd', '<script>alert(1)</script>', '"\'\\', 'javascript:alert(1)', 'http://', 'https://evil.example/',
  'openid', 'openid profile email offline_access', 'code', 'token id_token', 'S256', 'plain', 'none', 'demo',
];

/** Text a fuzzer sends as one value: short junk of every kind, sometimes huge. */
export const junkText: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 9, arbitrary: fc.constantFrom(...SPECIAL_WORDS) },
  { weight: 3, arbitrary: fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 3 }) },
  { weight: 3, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 4 }) },
  // Huge, rarely (most would only meet the 16 KiB header or 64 KiB body limit).
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', '€', '\ud83d\ude00', '%'), fc.integer({ min: 300, max: 9000 })).map(([s, n]) => s.repeat(n)) },
);

/** Bytes, mostly not UTF-8 (lone continuation bytes, overlong forms, surrogates, truncated sequences). */
export const junkBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 24 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom('ff', 'c0af', 'e282', 'eda080', 'f8888080', '80', 'fe', 'c3', 'f4908080').map((hex) => Buffer.from(hex, 'hex')),
);

/** RFC 3986 unreserved characters stay as they are; every other byte is %XX. */
export function percentEncodeBytes(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Text to UTF-8 (a lone surrogate becomes U+FFFD, as any encoder would send it), then percent-encoded. */
export const percentEncode = (text: string) => percentEncodeBytes(Buffer.from(text, 'utf8'));

/**
 * One value on the wire, already encoded for a query or a form: well encoded text, raw bytes
 * percent-encoded (not UTF-8 once decoded), or written as they are (a bare `%`, a raw `&`, `+`,
 * high bytes, a broken escape).
 */
export const wireValue = (text: fc.Arbitrary<string>): fc.Arbitrary<Buffer> =>
  fc.oneof(
    { weight: 6, arbitrary: text.map((t) => Buffer.from(percentEncode(t), 'latin1')) },
    { weight: 1, arbitrary: junkBytes.map((b) => Buffer.from(percentEncodeBytes(b), 'latin1')) },
    { weight: 1, arbitrary: junkBytes },
    { weight: 1, arbitrary: fc.constantFrom('%', '%Z', '%zz', '%2', '&&', '=', '==', '+', '%u0041', '%C0%80', '%ED%A0%80').map((s) => Buffer.from(s, 'latin1')) },
  );

export const base64url = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');

/** JSON that a JWT header or payload might hold, or not quite JSON. */
const jwtPart: fc.Arbitrary<string> = fc.oneof(
  fc.record({ alg: fc.constantFrom('none', 'RS256', 'HS256', 'ES256', 'RS512', 'PS256', 'None', ''), kid: fc.option(junkText, { nil: undefined }), typ: fc.option(fc.constantFrom('JWT', 'logout+jwt', 'at+jwt'), { nil: undefined }) }).map((h) => JSON.stringify(h)),
  fc.record({
    iss: fc.option(fc.constantFrom('http://127.0.0.1', 'https://evil.example'), { nil: undefined }),
    sub: fc.option(junkText, { nil: undefined }),
    aud: fc.option(fc.oneof(junkText, fc.array(junkText, { maxLength: 3 })), { nil: undefined }),
    exp: fc.option(fc.oneof(fc.integer(), fc.double(), junkText), { nil: undefined }),
    sid: fc.option(junkText, { nil: undefined }),
  }).map((p) => JSON.stringify(p)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  junkText,
  fc.constant(JSON.stringify({ alg: 'RS256', kid: 'k'.repeat(20_000) })),
  fc.constant('{"alg":"none","crit":["exp"],"b64":false}'),
);

/** Strings shaped like compact JWS/JWE: base64url segments of junk JSON, `alg: none`, huge headers, wrong segment counts. */
export const jwtLike: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(jwtPart, jwtPart, fc.uint8Array({ maxLength: 64 })).map(([h, p, s]) => `${base64url(h)}.${base64url(p)}.${base64url(Buffer.from(s))}`),
  fc.tuple(jwtPart, jwtPart).map(([h, p]) => `${base64url(h)}.${base64url(p)}.`),
  fc.array(fc.oneof(jwtPart.map(base64url), junkText), { minLength: 1, maxLength: 6 }).map((segments) => segments.join('.')),
  fc.constantFrom('..', '.', 'a.b.c', 'eyJ.eyJ.', 'eyJhbGciOiJub25lIn0.e30.', '====.====.===='),
);

/** Anything that goes where a token goes. */
export const tokenLike: fc.Arbitrary<string> = fc.oneof(
  junkText,
  jwtLike,
  fc.uint8Array({ minLength: 1, maxLength: 96 }).map((b) => base64url(Buffer.from(b))),
);
