import { createCipheriv, createDecipheriv } from 'node:crypto';
import { pooledRandomBytes } from './random-pool.js';

/**
 * Short-lived encrypted tokens for cookies (e.g. the pending authorization request): a compact
 * JWE (RFC 7516 §7.1; `dir` + `A256GCM`, RFC 7518 §4.5 and §5.3) around a JWT with iat, exp and a
 * `pur` (purpose) claim, so a token sealed for one purpose never opens for another even if two
 * purposes were to share a key.
 *
 * Sealed and opened in place with node:crypto's synchronous AES-GCM (issue 12), as
 * es256-jws.ts signs: jose goes through WebCrypto, and its job dispatch to libuv's thread pool
 * and back, four times per code flow, was 9 % of a login. The format is jose's exactly (the same
 * protected header, the JWT claims as the plaintext): jose opens what this seals and this opens
 * what jose sealed (test/unit/crypto.test.ts). Opening is strict, since a cookie is the
 * browser's to send: five parts, an empty encrypted key, exactly this header, a 96-bit IV and a
 * 128-bit tag (a shorter tag is refused, not checked as far as it goes), then the claims.
 */
const HEADER = { alg: 'dir', enc: 'A256GCM' } as const;
const ENCODED_HEADER = Buffer.from(JSON.stringify(HEADER), 'utf8').toString('base64url');
const AAD = Buffer.from(ENCODED_HEADER, 'ascii');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export class SealedTokens {
  constructor(
    private readonly key: Buffer,
    private readonly purpose: string,
  ) {
    if (key.length !== 32) throw new Error(`SealedTokens key must be 32 bytes (got ${key.length})`);
    if (purpose.length === 0) throw new Error('SealedTokens purpose must not be empty');
  }

  async seal(payload: Record<string, unknown>, ttlSeconds: number, now = new Date()): Promise<string> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`bad ttlSeconds ${ttlSeconds}`);
    const iat = Math.floor(now.getTime() / 1000);
    const claims = { ...payload, pur: this.purpose, iat, exp: iat + ttlSeconds };
    const iv = pooledRandomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(AAD);
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()]);
    return [ENCODED_HEADER, '', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The sealed payload, or null for a malformed, tampered, expired or wrong-purpose token. */
  async open<T>(token: string, now = new Date()): Promise<T | null> {
    const claims = this.decrypt(token);
    if (claims === null) return null;
    const { pur, iat, exp, ...sealed } = claims;
    if (pur !== this.purpose || typeof iat !== 'number' || typeof exp !== 'number' || !Number.isFinite(iat)) return null;
    // RFC 7519 §4.1.4: not accepted on or after its expiry.
    if (!(Math.floor(now.getTime() / 1000) < exp)) return null;
    return sealed as T;
  }

  private decrypt(token: string): Record<string, unknown> | null {
    if (typeof token !== 'string') return null;
    const parts = token.split('.');
    if (parts.length !== 5) return null;
    const [header, encryptedKey, iv, ciphertext, tag] = parts as [string, string, string, string, string];
    // The protected header is compared as we write it: `dir` + `A256GCM`, nothing else (no zip, no crit).
    if (header !== ENCODED_HEADER || encryptedKey !== '') return null;
    if (!BASE64URL.test(iv) || !BASE64URL.test(ciphertext) || !BASE64URL.test(tag)) return null;
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) return null;
    let plaintext: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(AAD);
      decipher.setAuthTag(tagBytes);
      plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return null; // the tag does not match: tampered, or another key
    }
    try {
      const claims: unknown = JSON.parse(plaintext);
      return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
}
