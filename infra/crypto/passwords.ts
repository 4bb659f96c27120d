import argon2 from 'argon2';
import { passwordVerifications } from '../metrics/metrics.js';

/**
 * Human passwords (DESIGN §4): argon2id, the hash in its PHC string form, which carries its own
 * parameters. Every verification is counted (`idp_password_verifications_total`): argon2 is the
 * ceiling of password logins, and a login must cost exactly one.
 */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export function verifyPassword(hash: string, password: string): Promise<boolean> {
  passwordVerifications.inc();
  return argon2.verify(hash, password);
}
