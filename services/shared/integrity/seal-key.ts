import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { LogCheckpointSealed } from '../../../contracts/events/log.js';
import { sealStatementBytes, type SealStatement } from './running-hash.js';

/**
 * The Ed25519 key that signs the log's sealed checkpoints. Its 32-byte seed is derived from the
 * KEK (`deriveKey(kek, 'log-seal')`), so every token-issuer replica and the embedded server sign
 * with the same key and nothing has to be stored; its public half travels in every seal and in
 * the anchor file, where `idp verify` pins it.
 */
export interface SealKey {
  privateKey: KeyObject;
  /** Raw public key, base64url (a JWK's `x`). */
  publicKey: string;
  keyId: string;
}

/** PKCS #8 prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI prefix of an Ed25519 public key (RFC 8410): the 32 raw bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function sealKeyFromSeed(seed: Buffer): SealKey {
  if (seed.length !== 32) throw new Error(`an Ed25519 seed is 32 bytes, got ${seed.length}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = String(jwk.x);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** The first 16 characters of the base64url SHA-256 of the raw public key. */
export function keyIdOf(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64url').slice(0, 16);
}

export function signSeal(key: SealKey, statement: SealStatement): string {
  return sign(null, sealStatementBytes(statement), key.privateKey).toString('base64url');
}

/** Whether `seal.signature` is the Ed25519 signature of its statement under `seal.publicKey`. */
export function sealSignatureValid(tenant: string, seal: LogCheckpointSealed): boolean {
  const raw = Buffer.from(seal.publicKey, 'base64url');
  if (raw.length !== 32) return false;
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    const { upToPosition, runningHash, eventCount, previousSeal, sealedAt } = seal;
    const bytes = sealStatementBytes({ tenant, upToPosition, runningHash, eventCount, previousSeal, sealedAt });
    return verify(null, bytes, publicKey, Buffer.from(seal.signature, 'base64url'));
  } catch {
    return false;
  }
}
