import { randomBytes } from 'node:crypto';

/**
 * Random bytes from the system CSPRNG, drawn 4 KiB at a time (issue 12): each `randomBytes` or
 * `getRandomValues` call is a system call, and a token request made three of them (its event
 * id, its correlation id, its access token's secret), 3 % of its time. Every byte is handed out
 * once, copied out of the pool, and its place in the pool zeroed.
 */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

export function pooledRandomBytes(count: number): Buffer {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`pooledRandomBytes: bad byte count ${count}`);
  if (count > POOL_SIZE / 4) return randomBytes(count);
  if (offset + count > pool.length) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + count));
  pool.fill(0, offset, offset + count);
  offset += count;
  return out;
}
