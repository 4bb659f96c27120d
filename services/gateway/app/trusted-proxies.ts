import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * `IDP_TRUST_PROXY`: the reverse proxies (load balancers, ingress controllers) whose
 * `X-Forwarded-For` the gateway believes. Unset or `none`: none, so the client address is the TCP
 * peer, whatever a request claims. Otherwise a comma-separated list of addresses and CIDR blocks
 * (`10.0.0.0/8`, `2001:db8::/32`), or the names `loopback`, `linklocal`, `uniquelocal` (the
 * private ranges). Fastify's `trustProxy` (through `@fastify/proxy-addr`) then walks
 * `X-Forwarded-For` from the peer backwards and takes the first address that is not a trusted
 * proxy: an address a client writes at the front of the header is never the one chosen.
 *
 * Not accepted: `true`/`all` and `/0` (every peer trusted: any client could name its own address)
 * and a hop count (it trusts whoever connects, proxy or not; Fastify refuses it too). RFC 7239
 * `Forwarded` is not read; the proxy must set `X-Forwarded-For`.
 */
export type TrustedProxies = readonly string[];

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

export function parseTrustedProxies(text: string): TrustedProxies {
  const value = text.trim();
  if (value === '' || value.toLowerCase() === 'none') return [];
  if (/^(true|all|\*|\d+)$/i.test(value)) {
    throw new Error(
      'must list the proxies (addresses, CIDR blocks, loopback, linklocal, uniquelocal), or be none: trusting every peer or a hop count lets a client connecting directly choose its own address',
    );
  }
  return value.split(',').map((entry) => {
    const item = entry.trim();
    if (NAMED_RANGES.has(item.toLowerCase())) return item.toLowerCase();
    const [address = '', prefix, ...rest] = item.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) throw new Error(`"${item}" is not an IP address, a CIDR block or loopback/linklocal/uniquelocal`);
    if (prefix === undefined) return item;
    const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    const max = family === 4 ? 32 : 128;
    if (!(bits >= 1 && bits <= max)) throw new Error(`"${item}": the prefix length must be 1..${max} (/0 would trust every peer)`);
    return item;
  });
}

/** `IDP_TRUST_PROXY` (gateway, embedded): default none. */
export const TrustProxyEnv = z
  .string()
  .optional()
  .transform((value, ctx) => {
    try {
      return parseTrustedProxies(value ?? '');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

/** What Fastify's `trustProxy` takes: false when no proxy is trusted. */
export function fastifyTrustProxy(proxies: TrustedProxies): false | string[] {
  return proxies.length === 0 ? false : [...proxies];
}
