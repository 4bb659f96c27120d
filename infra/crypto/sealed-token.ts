import { EncryptJWT, jwtDecrypt } from 'jose';

/**
 * Short-lived encrypted tokens for cookies (e.g. the pending authorization request): a compact
 * JWE (dir + A256GCM) around a JWT with iat, exp and a `pur` (purpose) claim, so a token sealed
 * for one purpose never opens for another even if two purposes were to share a key.
 */
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
    return new EncryptJWT({ ...payload, pur: this.purpose })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlSeconds)
      .encrypt(this.key);
  }

  /** The sealed payload, or null for a malformed, tampered, expired or wrong-purpose token. */
  async open<T>(token: string, now = new Date()): Promise<T | null> {
    try {
      const { payload } = await jwtDecrypt(token, this.key, {
        currentDate: now,
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
        requiredClaims: ['iat', 'exp', 'pur'],
      });
      if (payload.pur !== this.purpose) return null;
      const { pur: _pur, iat: _iat, exp: _exp, ...sealed } = payload;
      return sealed as T;
    } catch {
      return null;
    }
  }
}
