import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

/** AES-256-GCM ciphertext of a JSON value; every field is base64url. */
export interface Sealed {
  alg: 'A256GCM';
  iv: string;
  ct: string;
  tag: string;
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]*$/, 'base64url');

/** Validates Sealed objects read from events (same shape as contracts/events SealedJson). */
export const SealedSchema = z.object({
  alg: z.literal('A256GCM'),
  iv: base64url,
  ct: base64url,
  tag: base64url,
});

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealJson(key: Buffer, value: unknown, aad?: string): Sealed {
  checkKey(key);
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) throw new TypeError('sealJson: value is not JSON-serialisable');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  if (aad !== undefined) cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
  return {
    alg: 'A256GCM',
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

/** Throws if the ciphertext was tampered with, or the key or aad differ from sealing time. */
export function openJson<T>(key: Buffer, sealed: Sealed, aad?: string): T {
  checkKey(key);
  const { iv, ct, tag } = SealedSchema.parse(sealed);
  let plain: Buffer;
  try {
    // authTagLength makes setAuthTag refuse a truncated tag, which GCM would otherwise accept.
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    plain = Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
  } catch {
    throw new Error('openJson: authentication failed (tampered, wrong key or wrong aad)');
  }
  return JSON.parse(plain.toString('utf8')) as T;
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new Error(`AES-256-GCM key must be 32 bytes (got ${key.length})`);
}
