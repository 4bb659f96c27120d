/**
 * What the consent page names as the place the browser goes next: the redirect URI's host (with
 * its port), or for a native app's private-use scheme (RFC 8252 §7.1) the scheme itself.
 */
export function redirectDestination(redirectUri: string): string {
  try {
    const url = new URL(redirectUri);
    return url.host !== '' ? url.host : url.protocol;
  } catch {
    return redirectUri;
  }
}
