import { openJson, sealJson, type Sealed } from '../../../infra/crypto/envelope.js';
import type { StoredPasswordHash } from '../domain/user/user.js';

/**
 * Password hashes at rest (issue 10 point 4): the argon2id PHC string sealed under the user's data
 * key, like the profile, so that destroying the key (`forget`) makes the hash unreadable too. The
 * additional data names the tenant, the subject and the purpose: a sealed hash moved to another
 * user, or put where the profile belongs, does not open.
 */
function passwordAad(tenant: string, sub: string): string {
  return `password:${tenant}:${sub}`;
}

export function sealPasswordHash(dataKey: Buffer, tenant: string, sub: string, phc: string): Sealed {
  return sealJson(dataKey, phc, passwordAad(tenant, sub));
}

/**
 * The PHC string of a stored hash: a plaintext one (a V1 event) as it is, a sealed one opened
 * with the user's data key. A sealed hash that does not open with its owner's key is corruption,
 * and throws. The caller refuses to check a password at all once the key is gone.
 */
export function openPasswordHash(dataKey: Buffer, tenant: string, sub: string, stored: StoredPasswordHash): string {
  if (stored.kind === 'plaintext') return stored.phc;
  const phc = openJson<unknown>(dataKey, stored.sealed, passwordAad(tenant, sub));
  if (typeof phc !== 'string') throw new Error(`the sealed password hash of ${sub} is not a string`);
  return phc;
}
