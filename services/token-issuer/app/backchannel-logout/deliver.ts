/**
 * Back-Channel Logout 1.0 §2.5: POST `logout_token=<JWT>` as a form to the client's
 * backchannel_logout_uri. A 200 is success (§2.8; any 2xx is taken as one). Redirects are not
 * followed (a 3xx is a failure: the token goes to the registered URI only), the request has a
 * deadline, and the answer's body is never read beyond its status.
 */
export type DeliveryOutcome = { delivered: true; status: number } | { delivered: false; status: number | null; error: string | null };

export async function postLogoutToken(uri: string, logoutToken: string, timeoutMs: number, signal?: AbortSignal): Promise<DeliveryOutcome> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ logout_token: logoutToken }).toString(),
      redirect: 'manual',
      signal: signal ? AbortSignal.any([deadline, signal]) : deadline,
    });
    await response.body?.cancel().catch(() => {});
    if (response.status >= 200 && response.status < 300) return { delivered: true, status: response.status };
    return { delivered: false, status: response.status, error: null };
  } catch (error) {
    // Only the kind of failure: an error message may quote the URI, never the token, but keep it short.
    const reason = deadline.aborted ? 'timeout' : error instanceof Error ? `${error.name}: ${(error.cause as Error | undefined)?.message ?? error.message}` : 'request failed';
    return { delivered: false, status: null, error: reason.slice(0, 200) };
  }
}
