import { sourceKey } from './client-address.js';
import { z } from 'zod';

export { sourceKey };

/** How many registrations one source may make: `burst` at once, then `perMinute` on average. */
export interface RegistrationRate {
  perMinute: number;
  burst: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Sources remembered at most; beyond it, full (idle) buckets are dropped first, then the oldest. */
const MAX_TRACKED_SOURCES = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per source address, in this process only (one per gateway replica). An IPv6
 * source counts by its /64, the block one host is usually given, so a host cannot multiply its
 * allowance by rotating addresses inside it. `now` comes from the caller (milliseconds).
 */
export class RegistrationRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(private readonly rate: RegistrationRate) {
    if (!(rate.perMinute > 0) || !(rate.burst >= 1)) throw new Error('registration rate: perMinute > 0 and burst >= 1');
    this.perMs = rate.perMinute / 60_000;
  }

  take(source: string, now: number): RateDecision {
    const key = sourceKey(source);
    const bucket = this.refilled(this.buckets.get(key), now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.remember(key, bucket, now);
      return { allowed: true };
    }
    this.remember(key, bucket, now);
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000)) };
  }

  private refilled(bucket: Bucket | undefined, now: number): Bucket {
    if (!bucket) return { tokens: this.rate.burst, at: now };
    const elapsed = Math.max(0, now - bucket.at);
    return { tokens: Math.min(this.rate.burst, bucket.tokens + elapsed * this.perMs), at: now };
  }

  private remember(key: string, bucket: Bucket, now: number): void {
    this.buckets.delete(key); // re-inserted last: the Map's order is least recently seen first
    this.buckets.set(key, bucket);
    if (this.buckets.size <= MAX_TRACKED_SOURCES) return;
    // One sweep makes room for many more sources (amortised): idle buckets first, as a full
    // bucket is the same as none; then the least recently seen, down to 90%.
    for (const [other, state] of this.buckets) {
      if (state.tokens + Math.max(0, now - state.at) * this.perMs >= this.rate.burst) this.buckets.delete(other);
    }
    while (this.buckets.size > MAX_TRACKED_SOURCES * 0.9) {
      const oldest = this.buckets.keys().next().value as string;
      this.buckets.delete(oldest);
    }
  }
}

/** `IDP_REGISTRATION_RATE`: `<n>/minute` (burst n) or `<n>/minute,burst=<b>`; `<n>` alone is per minute. */
export function parseRegistrationRate(text: string): RegistrationRate {
  const match = /^\s*(\d+)\s*(?:\/\s*(?:min|minute))?\s*(?:,\s*burst\s*=\s*(\d+))?\s*$/i.exec(text);
  if (!match) throw new Error('must be <n>/minute or <n>/minute,burst=<b> (e.g. 10/minute)');
  const perMinute = Number(match[1]);
  const burst = match[2] === undefined ? perMinute : Number(match[2]);
  if (perMinute < 1 || burst < 1) throw new Error('the rate and the burst must be at least 1');
  return { perMinute, burst };
}

export const DEFAULT_REGISTRATION_RATE: RegistrationRate = { perMinute: 10, burst: 10 };

/** `IDP_REGISTRATION_RATE` (gateway): `POST /register` per source address, default 10/minute (burst 10). */
export const RegistrationRateEnv = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === '') return DEFAULT_REGISTRATION_RATE;
    try {
      return parseRegistrationRate(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
