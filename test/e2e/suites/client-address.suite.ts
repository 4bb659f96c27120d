import type { IdpUnderTest } from '../../support/idp-under-test.js';
import { requestFrom } from '../../support/http-from.js';

/** The reverse proxy of these tests: the deployment under test is started with IDP_TRUST_PROXY set to it. */
export const TEST_PROXY = '127.0.0.2';
/** A peer that is not a proxy (not 127.0.0.1, so the other suites' throttle counts are not touched). */
const DIRECT_PEER = '127.0.0.3';

/**
 * The gateway passes the real client address to authn (issue 10 point 6): through a trusted proxy
 * its X-Forwarded-For is believed, from any other peer a forged one is ignored. Observed in the log
 * as the source of `authentication.failed` v2, an HMAC of the address: equal for one client,
 * different for two. Runs against an IdP started with IDP_TRUST_PROXY=TEST_PROXY, the initial
 * access token and the given user; each source stays below the throttle's free attempts.
 */
export function describeClientAddress(
  server: () => IdpUnderTest,
  initialAccessToken: string,
  user: { username: string; password: string },
): void {
  describe('the client address through a trusted proxy (IDP_TRUST_PROXY)', () => {
    let client: { client_id: string; client_secret: string };

    beforeAll(async () => {
      const response = await fetch(`${server().issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${initialAccessToken}` },
        body: JSON.stringify({
          grant_types: ['password'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_post',
          scope: 'openid',
        }),
      });
      expect(response.status).toBe(201);
      client = (await response.json()) as typeof client;
    });

    /** A wrong password from `peer` (with X-Forwarded-For when given): the source authn recorded for it. */
    const failedLoginSource = async (peer: string, forwardedFor?: string): Promise<string> => {
      const log = await server().watchLog!();
      try {
        const response = await requestFrom(peer, `${server().issuer}/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
          },
          body: new URLSearchParams({ grant_type: 'password', ...client, username: user.username, password: `${user.password}-wrong`, scope: 'openid' }).toString(),
        });
        expect(response.status).toBe(400);
        expect(JSON.parse(response.body)).toMatchObject({ error: 'invalid_grant' });
        const failed = (await log.appendedEvents()).filter((event) => event.type === 'authentication.failed');
        expect(failed).toHaveLength(1);
        const source = failed[0]!.data.source;
        expect(source).toMatch(/^[0-9a-f]{64}$/);
        return source as string;
      } finally {
        await log.close();
      }
    };

    it("a trusted proxy's X-Forwarded-For is the source: one client is one source, two clients are two (each recorded as an HMAC only)", async () => {
      const first = await failedLoginSource(TEST_PROXY, '198.51.100.1');
      expect(await failedLoginSource(TEST_PROXY, '198.51.100.1')).toBe(first);
      const second = await failedLoginSource(TEST_PROXY, '198.51.100.2');
      expect(second).not.toBe(first);
      // Not the proxy's own address either.
      expect(await failedLoginSource(TEST_PROXY)).not.toBe(first);
    });

    it('an address a client puts in front of the header is not taken: the one the proxy appended is', async () => {
      const real = await failedLoginSource(TEST_PROXY, '198.51.100.7');
      expect(await failedLoginSource(TEST_PROXY, '198.51.100.8, 198.51.100.7')).toBe(real);
    });

    it('from a peer that is not a trusted proxy, a forged X-Forwarded-For is ignored: the peer itself is the source', async () => {
      const peer = await failedLoginSource(DIRECT_PEER);
      expect(await failedLoginSource(DIRECT_PEER, '198.51.100.1')).toBe(peer);
      expect(await failedLoginSource(DIRECT_PEER, `${TEST_PROXY}, 198.51.100.2`)).toBe(peer);
      // And it is not the source of the client it names through the proxy.
      expect(await failedLoginSource(TEST_PROXY, DIRECT_PEER)).toBe(peer);
    });
  });
}
