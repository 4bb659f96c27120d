import { isIPv6 } from 'node:net';

/**
 * The client address of a request is Fastify's `request.ip`: the TCP peer, or, when the peer is
 * one of the IDP_TRUST_PROXY proxies, the address they forwarded (see trusted-proxies.ts). What
 * counts per source (the registration rate limit, the login throttle) counts it by sourceKey.
 */
/** The address a bucket is kept for: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...zeros, ...right].map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''));
}

/**
 * The `source` of a login attempt as the gateway sends it to authn (at most 64 characters): the
 * client address by sourceKey, so that an IPv6 host cannot multiply its free attempts by rotating
 * addresses inside its /64. authn keeps only an HMAC of it.
 */
export function loginSource(clientAddress: string): string {
  return sourceKey(clientAddress).slice(0, 64);
}
