import { parseRegistrationRate, RegistrationRateLimiter, sourceKey } from '../../services/gateway/app/registration-rate-limit.js';
import { isLoopbackIssuer } from '../../services/gateway/app/open-registration-warning.js';

const T0 = 1_700_000_000_000;

describe('registration rate limiter (token bucket per source)', () => {
  test('a burst of 10 is served, the 11th is refused with the seconds until one more is allowed', () => {
    const limiter = new RegistrationRateLimiter({ perMinute: 10, burst: 10 });
    for (let i = 0; i < 10; i++) expect(limiter.take('198.51.100.7', T0)).toEqual({ allowed: true });
    expect(limiter.take('198.51.100.7', T0)).toEqual({ allowed: false, retryAfterSeconds: 6 });
    // Refused attempts do not dig the hole deeper than one token.
    expect(limiter.take('198.51.100.7', T0 + 1000)).toEqual({ allowed: false, retryAfterSeconds: 5 });
  });

  test('another source keeps its own bucket', () => {
    const limiter = new RegistrationRateLimiter({ perMinute: 10, burst: 10 });
    for (let i = 0; i < 10; i++) limiter.take('198.51.100.7', T0);
    expect(limiter.take('198.51.100.7', T0).allowed).toBe(false);
    expect(limiter.take('198.51.100.8', T0)).toEqual({ allowed: true });
  });

  test('after the window the source is served again, at the refill rate, never above the burst', () => {
    const limiter = new RegistrationRateLimiter({ perMinute: 10, burst: 10 });
    for (let i = 0; i < 10; i++) limiter.take('198.51.100.7', T0);
    expect(limiter.take('198.51.100.7', T0 + 6_000)).toEqual({ allowed: true });
    expect(limiter.take('198.51.100.7', T0 + 6_000).allowed).toBe(false);
    // An hour idle refills to the burst, not to 600.
    const later = T0 + 3_600_000;
    for (let i = 0; i < 10; i++) expect(limiter.take('198.51.100.7', later).allowed).toBe(true);
    expect(limiter.take('198.51.100.7', later).allowed).toBe(false);
  });

  test('IPv6 sources count by their /64, so rotating addresses inside it gains nothing; IPv4-mapped is IPv4', () => {
    expect(sourceKey('2001:db8:1:2::1')).toBe(sourceKey('2001:0db8:0001:0002:ffff:1:2:3'));
    expect(sourceKey('2001:db8:1:2::1')).not.toBe(sourceKey('2001:db8:1:3::1'));
    expect(sourceKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    const limiter = new RegistrationRateLimiter({ perMinute: 1, burst: 2 });
    expect(limiter.take('2001:db8:1:2::1', T0).allowed).toBe(true);
    expect(limiter.take('2001:db8:1:2::2', T0).allowed).toBe(true);
    expect(limiter.take('2001:db8:1:2:abcd::9', T0).allowed).toBe(false);
    expect(limiter.take('2001:db8:1:3::1', T0).allowed).toBe(true);
  });

  test('memory stays bounded under a flood of distinct sources', () => {
    const limiter = new RegistrationRateLimiter({ perMinute: 10, burst: 1 });
    expect(limiter.take('198.51.100.7', T0).allowed).toBe(true);
    for (let i = 0; i < 20_000; i++) limiter.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, T0);
    expect((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(10_000);
  });

  test('IDP_REGISTRATION_RATE: <n>/minute with an optional burst; nonsense and zero are refused', () => {
    expect(parseRegistrationRate('10/minute')).toEqual({ perMinute: 10, burst: 10 });
    expect(parseRegistrationRate('30/min,burst=5')).toEqual({ perMinute: 30, burst: 5 });
    expect(parseRegistrationRate('7')).toEqual({ perMinute: 7, burst: 7 });
    for (const bad of ['', '0/minute', '10/hour', 'ten', '10/minute,burst=0', '-1']) {
      expect(() => parseRegistrationRate(bad)).toThrow();
    }
  });
});

describe('open registration warning: which issuers are loopback', () => {
  test.each([
    ['http://localhost:3000', true],
    ['http://127.0.0.1:3000', true],
    ['http://[::1]:3000', true],
    ['https://idp.example.com', false],
    ['http://10.0.0.5:3000', false],
    ['http://localhost.example.com', false],
    ['not a url', false],
  ])('%s → %s', (issuer, loopback) => {
    expect(isLoopbackIssuer(issuer)).toBe(loopback);
  });
});
