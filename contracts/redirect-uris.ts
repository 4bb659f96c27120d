/**
 * The loopback hosts on which a redirect URI may use plain http (RFC 8252 §7.3, §8.3; RFC 9700
 * §4.1.1), and on which a native client's redirect URI matches on any port. Registration and
 * matching use this one set, so a URI that registers is also one that matches.
 */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An `http:` URL on a loopback host (`URL.hostname` keeps IPv6 brackets). */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * RFC 8252 §7.3: a native client's loopback redirect URI matches with any port, everything else
 * exactly (scheme, host, path and query).
 */
export function sameLoopbackIgnoringPort(registered: string, requested: string): boolean {
  let a: URL;
  let b: URL;
  try {
    a = new URL(registered);
    b = new URL(requested);
  } catch {
    return false;
  }
  if (!isLoopbackHttp(a) || !isLoopbackHttp(b)) return false;
  a.port = '';
  b.port = '';
  return a.href === b.href;
}
