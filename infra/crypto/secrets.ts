import { hash, timingSafeEqual } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { pooledRandomBytes } from './random-pool.js';

/** A fresh random secret, base64url without padding. */
export function randomSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 1) throw new RangeError(`randomSecret: bad byte count ${bytes}`);
  return pooledRandomBytes(bytes).toString('base64url');
}

/**
 * A UUID version 7 (RFC 9562 §5.7) whose random bits come from the pool, monotonic within this
 * process as `uuid`'s own v7 is (RFC 9562 §6.2 method 1: a 31-bit counter seeded at random each
 * millisecond and counted up within it; at its end the clock is moved on by one).
 */
const v7State = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

export function newUuidV7(): string {
  const random = pooledRandomBytes(16);
  const now = Date.now();
  if (now > v7State.msecs) {
    v7State.msecs = now;
    v7State.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    v7State.seq = (v7State.seq + 1) | 0;
    if (v7State.seq === 0) v7State.msecs++;
  }
  return uuidv7({ random, msecs: v7State.msecs, seq: v7State.seq });
}

export function sha256Hex(input: string | Buffer): string {
  // One-shot crypto.hash: about a fifth of createHash's cost for a short input (issue 12).
  return hash('sha256', input, 'hex');
}

/**
 * Compares two secrets without leaking where they differ. Hashing first gives timingSafeEqual
 * equal-length inputs, so not even the length of the expected secret leaks.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = hash('sha256', a, 'buffer');
  const hb = hash('sha256', b, 'buffer');
  return timingSafeEqual(ha, hb);
}
