import Fastify from 'fastify';
import { loginSource } from '../../services/gateway/app/client-address.js';
import { requestFrom } from '../support/http-from.js';
import { fastifyTrustProxy, parseTrustedProxies, TrustProxyEnv } from '../../services/gateway/app/trusted-proxies.js';

/** IDP_TRUST_PROXY: which peers' X-Forwarded-For the gateway believes, and what request.ip becomes. */
describe('IDP_TRUST_PROXY', () => {
  test('unset, empty or none: no proxy is trusted', () => {
    expect(TrustProxyEnv.parse(undefined)).toEqual([]);
    expect(parseTrustedProxies('')).toEqual([]);
    expect(parseTrustedProxies(' none ')).toEqual([]);
    expect(fastifyTrustProxy([])).toBe(false);
  });

  test('a list of addresses, CIDR blocks and the named private ranges', () => {
    expect(parseTrustedProxies('10.0.0.7, 10.1.0.0/16,2001:db8::/32, ::1,loopback, UniqueLocal')).toEqual([
      '10.0.0.7',
      '10.1.0.0/16',
      '2001:db8::/32',
      '::1',
      'loopback',
      'uniquelocal',
    ]);
  });

  test.each([
    ['true', /every peer or a hop count/],
    ['all', /every peer or a hop count/],
    ['*', /every peer or a hop count/],
    ['2', /every peer or a hop count/],
    ['0.0.0.0/0', /prefix length must be 1\.\.32/],
    ['::/0', /prefix length must be 1\.\.128/],
    ['10.0.0.0/33', /prefix length must be 1\.\.32/],
    ['10.0.0.0/8/8', /not an IP address/],
    ['proxy.internal', /not an IP address/],
    ['10.0.0.1,', /not an IP address/],
  ])('%s is refused, with a reason', (value, reason) => {
    expect(() => parseTrustedProxies(value)).toThrow(reason);
    expect(TrustProxyEnv.safeParse(value).success).toBe(false);
  });

  describe("what Fastify's request.ip becomes (a real listener on loopback; peers 127.0.0.2 and 127.0.0.3)", () => {
    const PROXY = '127.0.0.2';
    const OTHER = '127.0.0.3';
    const clientIp = async (trust: string, peer: string, headers: Record<string, string> = {}) => {
      const app = Fastify({ trustProxy: fastifyTrustProxy(parseTrustedProxies(trust)) });
      app.get('/', async (request) => request.ip);
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      try {
        return (await requestFrom(peer, `${address}/`, { headers })).body;
      } finally {
        await app.close();
      }
    };

    test('no trusted proxy: the TCP peer, whatever X-Forwarded-For says', async () => {
      expect(await clientIp('', PROXY, { 'x-forwarded-for': '203.0.113.1' })).toBe(PROXY);
    });

    test('a trusted peer: the last address it forwarded', async () => {
      expect(await clientIp(PROXY, PROXY, { 'x-forwarded-for': '203.0.113.1' })).toBe('203.0.113.1');
    });

    test('an address the client wrote in front of the header is never taken', async () => {
      expect(await clientIp(PROXY, PROXY, { 'x-forwarded-for': '192.0.2.66, 203.0.113.1' })).toBe('203.0.113.1');
    });

    test('a chain of trusted proxies is walked back to the first untrusted address', async () => {
      expect(await clientIp(`${PROXY},10.0.0.0/8`, PROXY, { 'x-forwarded-for': '192.0.2.66, 203.0.113.1, 10.9.9.9' })).toBe('203.0.113.1');
    });

    test('an untrusted peer sending X-Forwarded-For is itself the client', async () => {
      expect(await clientIp(PROXY, OTHER, { 'x-forwarded-for': `${PROXY}, 203.0.113.1` })).toBe(OTHER);
    });

    test('RFC 7239 Forwarded is not read', async () => {
      expect(await clientIp(PROXY, PROXY, { forwarded: 'for=203.0.113.1' })).toBe(PROXY);
    });
  });

  test("a login's source: IPv4 as is (also IPv4-mapped), IPv6 by its /64", () => {
    expect(loginSource('203.0.113.1')).toBe('203.0.113.1');
    expect(loginSource('::ffff:203.0.113.1')).toBe('203.0.113.1');
    expect(loginSource('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(loginSource('2001:db8:1:2:bbbb::2')).toBe(loginSource('2001:db8:1:2:aaaa::1'));
    expect(loginSource('2001:db8:1:3::1')).not.toBe(loginSource('2001:db8:1:2::1'));
  });
});

