import { randomBytes } from 'node:crypto';
import { openJson, sealJson, type Sealed } from '../envelope.js';
import { deriveKey } from '../kek.js';
import { DependencyUnavailableError } from '../../dependency-unavailable.js';

/**
 * Per-person 32-byte data keys, kept outside the event log. Personal data in events is sealed
 * with its owner's data key, so destroying the key forgets the person (crypto-shredding).
 * Every adapter passes test/contract/data-key-store.contract.ts.
 */
export interface DataKeyStore {
  /** The subject's key, created on first use. Throws DataKeyDestroyedError once destroyed. */
  getOrCreate(tenant: string, subject: string): Promise<Buffer>;
  /** undefined if the subject never had a key or its key was destroyed. */
  get(tenant: string, subject: string): Promise<Buffer | undefined>;
  /** Forgets the key for good; idempotent, and also bars a subject that never had a key. */
  destroy(tenant: string, subject: string): Promise<void>;
  close(): Promise<void>;
}

/** The store of data keys could not be reached or did not answer: the caller may retry. */
export class DataKeysUnavailableError extends DependencyUnavailableError {
  override readonly name = 'DataKeysUnavailableError';
}

/** A destroyed key is never silently replaced: a forgotten person stays forgotten. */
export class DataKeyDestroyedError extends Error {
  override readonly name = 'DataKeyDestroyedError';
  constructor(
    readonly tenant: string,
    readonly subject: string,
  ) {
    super(`data key of ${subject} in tenant ${tenant} was destroyed`);
  }
}

export const DATA_KEY_BYTES = 32;

/**
 * How every adapter keeps keys at rest: sealed under deriveKey(kek, 'data-keys'), bound to
 * (tenant, subject) so a wrapped key moved to another row does not open.
 */
export class DataKeyWrapper {
  private readonly wrappingKey: Buffer;

  constructor(kek: Buffer) {
    this.wrappingKey = deriveKey(kek, 'data-keys');
  }

  newWrappedKey(tenant: string, subject: string): Sealed {
    return sealJson(this.wrappingKey, randomBytes(DATA_KEY_BYTES).toString('base64url'), aad(tenant, subject));
  }

  unwrap(tenant: string, subject: string, wrapped: Sealed): Buffer {
    let encoded: string;
    try {
      encoded = openJson<string>(this.wrappingKey, wrapped, aad(tenant, subject));
    } catch {
      throw new Error(`cannot unwrap data key of ${subject} in tenant ${tenant} (wrong KEK?)`);
    }
    const key = Buffer.from(encoded, 'base64url');
    if (key.length !== DATA_KEY_BYTES) throw new Error(`data key of ${subject} in tenant ${tenant} is malformed`);
    return key;
  }
}

// JSON keeps the pair unambiguous: ('ab', 'c') and ('a', 'bc') must not share an aad.
function aad(tenant: string, subject: string): string {
  return JSON.stringify([tenant, subject]);
}
