import { randomBytes } from 'node:crypto';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import { describeDataKeyStoreContract } from './data-key-store.contract.js';

describeDataKeyStoreContract('in-memory', () => new InMemoryDataKeyStore(randomBytes(32)));

describe('InMemoryDataKeyStore', () => {
  test('rejects a KEK that is not 32 bytes', () => {
    expect(() => new InMemoryDataKeyStore(randomBytes(16))).toThrow(/32 bytes/);
  });
});
