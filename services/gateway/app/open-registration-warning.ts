/** Hosts only this machine can reach: open registration there is a development setup. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True when `issuer`'s host is a loopback name or address (localhost, 127.0.0.1, [::1]). */
export function isLoopbackIssuer(issuer: string): boolean {
  let host: string;
  try {
    host = new URL(issuer).hostname.toLowerCase();
  } catch {
    return false;
  }
  return LOOPBACK_HOSTS.has(host) || host.endsWith('.localhost');
}

/**
 * Logs, at warn level, that registration is open to anyone who can reach a non-loopback issuer
 * (RFC 7591 §3 without an initial access token), and how to close it. Silent on loopback or when
 * the token is set.
 */
export function warnOnOpenRegistration(
  issuer: string,
  initialAccessToken: string | undefined,
  logger: { warn(obj: object, msg: string): void },
): void {
  if (initialAccessToken !== undefined || isLoopbackIssuer(issuer)) return;
  logger.warn(
    { issuer, endpoint: `${issuer}/register` },
    'OPEN REGISTRATION: IDP_INITIAL_ACCESS_TOKEN is not set, so anyone who can reach this issuer can register clients ' +
      '(and redirect URIs) with POST /register; set IDP_INITIAL_ACCESS_TOKEN to a long random secret to require it as a bearer token',
  );
}
