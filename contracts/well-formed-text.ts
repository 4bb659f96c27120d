/**
 * Text the log can hold. Event hashes are SHA-256 over RFC 8785 canonical JSON (DESIGN §4), and
 * RFC 8785 §3.2.2.2 serialises strings as Unicode: a lone UTF-16 surrogate (which JSON's `\ud800`
 * escape can smuggle into a JavaScript string) has no such form, so no hash can be computed for
 * it. Every edge that takes text from outside (HTTP JSON bodies, bus messages) refuses it with
 * the OAuth error of that edge, before anything reaches the command side.
 */

/** In a `u` regex a paired surrogate is one astral code point; only a lone one is category Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Nesting deeper than this is refused outright rather than walked (a bus payload is small). */
const MAX_DEPTH = 64;

/**
 * The JSON path (`$.a.b[2]`) of the first string, or object key, in `value` that is not
 * well-formed Unicode; undefined when all are.
 */
export function findIllFormedText(value: unknown, path = '$', depth = 0): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_DEPTH) return path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findIllFormedText(value[i], `${path}[${i}]`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    if (LONE_SURROGATE.test(key)) return `${path}[key]`;
    const found = findIllFormedText(child, `${path}.${key}`, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
