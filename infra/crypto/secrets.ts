import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh random secret, base64url without padding. */
export function randomSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 1) throw new RangeError(`randomSecret: bad byte count ${bytes}`);
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(input: string | Buffer): string {
  return createHash('sha256').update(input).digest('hex');
}

/**
 * Compares two secrets without leaking where they differ. Hashing first gives timingSafeEqual
 * equal-length inputs, so not even the length of the expected secret leaks.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}
