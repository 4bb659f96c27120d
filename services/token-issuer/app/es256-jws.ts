import { KeyObject, sign, webcrypto } from 'node:crypto';
import type { CryptoKey } from 'jose';

/**
 * ES256 compact JWS signing with node:crypto's synchronous `sign` (issue 12). jose signs through
 * WebCrypto, whose every ECDSA signature is a job sent to libuv's thread pool and back: that
 * dispatch was 15 % of a client-credentials request, against some tens of microseconds for the
 * signature itself done in place. Only the signing of our own ES256 tokens is done here (RFC 7515
 * §7.1 compact serialization, RFC 7518 §3.4 ES256: the signature is R ‖ S, 64 bytes, which
 * `dsaEncoding: 'ieee-p1363'` gives); every verification, and RS256, stay with jose. The tests
 * verify what this signs with jose (test/integration/es256-jws.test.ts).
 *
 * The CryptoKey of the keyring is turned into a KeyObject once per key.
 */
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

function keyObjectOf(key: CryptoKey): KeyObject {
  let object = keyObjects.get(key);
  if (!object) {
    object = KeyObject.from(key as webcrypto.CryptoKey);
    keyObjects.set(key, object);
  }
  return object;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export function signCompactEs256(header: Record<string, unknown>, payload: Record<string, unknown>, key: CryptoKey): string {
  if (key.algorithm.name !== 'ECDSA' || (key.algorithm as { namedCurve?: string }).namedCurve !== 'P-256' || key.type !== 'private') {
    throw new TypeError('an ES256 signature needs a private P-256 ECDSA key');
  }
  const signingInput = `${base64url({ ...header, alg: 'ES256' })}.${base64url(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), { key: keyObjectOf(key), dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}
