import os from 'node:os';
import argon2 from 'argon2';
import { ConcurrencyLimit } from '../concurrency/limit.js';
import { passwordHashes, passwordVerifications } from '../metrics/metrics.js';

/**
 * Human passwords (DESIGN §4): argon2id, the hash in its PHC string form, which carries its own
 * parameters. Every verification is counted (`idp_password_verifications_total`): argon2 is the
 * ceiling of password logins, and a login must cost exactly one.
 */
export interface Argon2Parameters {
  /** Memory in KiB. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * OWASP's recommended argon2id setting (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1): a
 * verification costs a few tens of milliseconds of one core, where the library default
 * (m=64 MiB, t=3, p=4) costs about 150 ms. A stored hash keeps the parameters it was made with,
 * so hashes made under other parameters still verify.
 */
export const DEFAULT_ARGON2: Argon2Parameters = { memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 };

/**
 * At most as many argon2 computations at once as this process has cores to run them on
 * (`availableParallelism` counts the cores its CPU affinity allows), the rest wait their turn
 * (issue 12). More at once cannot finish more logins per second, only make each cost more: on
 * one core, four 19 MiB hashes in turn evict each other from the caches (the thread pool spent
 * about 30 ms of CPU per login with four at once, 27 ms one at a time, measured per thread), and
 * they held all four of libuv's threads, so the log's fsyncs, which run there too, queued
 * behind them.
 */
const argon2Slots = new ConcurrencyLimit(Math.max(1, os.availableParallelism()));

export function hashPassword(password: string, parameters: Argon2Parameters = DEFAULT_ARGON2): Promise<string> {
  passwordHashes.inc();
  return argon2Slots.run(() => argon2.hash(password, { type: argon2.argon2id, ...parameters }));
}

/**
 * Whether a stored hash was made otherwise than `hashPassword` would make it now: another
 * variant than argon2id, another argon2 version, or other memory, time or parallelism (read
 * from its PHC string, `$argon2id$v=19$m=19456,p=1,t=2$…`). A successful login then rehashes.
 */
export function needsRehash(hash: string, parameters: Argon2Parameters = DEFAULT_ARGON2): boolean {
  if (!hash.startsWith('$argon2id$')) return true;
  return argon2.needsRehash(hash, { ...parameters, version: ARGON2_VERSION });
}

/** Argon2 version 1.3 (0x13), the only one the library makes. */
const ARGON2_VERSION = 0x13;

export function verifyPassword(hash: string, password: string): Promise<boolean> {
  passwordVerifications.inc();
  return argon2Slots.run(() => argon2.verify(hash, password));
}

/** argon2 computations running and waiting in this process (for tests and the curious). */
export function argon2Load(): { running: number; waiting: number; slots: number } {
  return { ...argon2Slots.load(), slots: argon2Slots.slots };
}
