import argon2 from 'argon2';
import { passwordVerifications } from '../metrics/metrics.js';

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

export function hashPassword(password: string, parameters: Argon2Parameters = DEFAULT_ARGON2): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id, ...parameters });
}

export function verifyPassword(hash: string, password: string): Promise<boolean> {
  passwordVerifications.inc();
  return argon2.verify(hash, password);
}
