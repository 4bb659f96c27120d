import { randomBytes } from 'node:crypto';
import type { LogCheckpointSealed, LogEvent } from '../../contracts/events/log.js';
import { RUNNING_HASH_GENESIS, nextRunningHash } from '../../services/shared/integrity/running-hash.js';
import { keyIdOf, sealKeyFromSeed, sealSignatureValid, signSeal } from '../../services/shared/integrity/seal-key.js';
import { logSealDecider } from '../../services/token-issuer/domain/log-seal/log-seal.js';
import { spec } from '../support/decider-spec.js';

/** The seal chain's decider (DESIGN §4), and the signature it carries. */
const key = sealKeyFromSeed(randomBytes(32));
const h = (n: number) => n.toString(16).padStart(64, '0');

function seal(upToPosition: number, eventCount: number, previousSeal: LogCheckpointSealed['previousSeal']): LogCheckpointSealed {
  const statement = { tenant: 'acme', upToPosition, runningHash: h(upToPosition), eventCount, previousSeal, sealedAt: '2026-11-30T07:00:00.000Z' };
  return { upToPosition, runningHash: h(upToPosition), eventCount, previousSeal, sealedAt: statement.sealedAt, keyId: key.keyId, publicKey: key.publicKey, signature: signSeal(key, statement) };
}
const sealed = (data: LogCheckpointSealed): LogEvent => ({ type: 'log.checkpoint_sealed', schemaVersion: 1, data });

describe('log seal decider', () => {
  const first = seal(10, 10, null);
  const second = seal(20, 19, { upToPosition: 10, runningHash: h(10) });

  it('the first seal of a stream has no previous seal', () => {
    spec(logSealDecider).given([]).when({ type: 'seal_log', seal: first }).then([sealed(first)]);
  });

  it('a seal further than the last, chained to it, is appended', () => {
    spec(logSealDecider).given([sealed(first)]).when({ type: 'seal_log', seal: second }).then([sealed(second)]);
  });

  it('a seal no further than the last (another replica won the race) writes nothing', () => {
    spec(logSealDecider).given([sealed(first), sealed(second)]).when({ type: 'seal_log', seal: seal(20, 19, { upToPosition: 10, runningHash: h(10) }) }).then([]);
    spec(logSealDecider).given([sealed(first)]).when({ type: 'seal_log', seal: seal(9, 9, { upToPosition: 10, runningHash: h(10) }) }).then([]);
  });

  it('a seal chained to another head than the stream\'s (built on stale state) writes nothing', () => {
    spec(logSealDecider).given([sealed(first)]).when({ type: 'seal_log', seal: seal(20, 19, null) }).then([]);
    spec(logSealDecider).given([]).when({ type: 'seal_log', seal: second }).then([]);
  });
});

describe('seal signature and running hash', () => {
  it('verifies over the statement, and fails for any field changed, another tenant or another key', () => {
    const data = seal(10, 10, null);
    expect(sealSignatureValid('acme', data)).toBe(true);
    expect(sealSignatureValid('other', data)).toBe(false);
    expect(sealSignatureValid('acme', { ...data, eventCount: 11 })).toBe(false);
    expect(sealSignatureValid('acme', { ...data, runningHash: h(11) })).toBe(false);
    expect(sealSignatureValid('acme', { ...data, previousSeal: { upToPosition: 1, runningHash: h(1) } })).toBe(false);
    const other = sealKeyFromSeed(randomBytes(32));
    expect(sealSignatureValid('acme', { ...data, publicKey: other.publicKey })).toBe(false);
    expect(keyIdOf(key.publicKey)).toBe(key.keyId);
  });

  it('derives the same key from the same seed (every replica signs alike)', () => {
    const seed = randomBytes(32);
    expect(sealKeyFromSeed(seed).publicKey).toBe(sealKeyFromSeed(Buffer.from(seed)).publicKey);
  });

  it('folds event hashes in order from a fixed genesis', () => {
    expect(RUNNING_HASH_GENESIS).toMatch(/^[0-9a-f]{64}$/);
    const ab = nextRunningHash(nextRunningHash(RUNNING_HASH_GENESIS, h(1)), h(2));
    const ba = nextRunningHash(nextRunningHash(RUNNING_HASH_GENESIS, h(2)), h(1));
    expect(ab).not.toBe(ba);
  });
});
