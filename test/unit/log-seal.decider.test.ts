import { randomBytes } from 'node:crypto';
import type { LogArchived, LogCheckpointSealed, LogEvent } from '../../contracts/events/log.js';
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

describe('log seal decider: archive records', () => {
  const first = seal(10, 10, null);
  const second = seal(20, 19, { upToPosition: 10, runningHash: h(10) });
  const archive = (sealPosition: number, upToPosition: number): LogArchived => ({
    sealPosition,
    upToPosition,
    endedBefore: '2026-11-30T07:00:00.000Z',
    archived: { events: 3, digest: h(1), streams: { grant: 2 } },
    kept: { events: 7, digest: h(2) },
    fileSha256: h(3),
  });
  const archived = (data: LogArchived): LogEvent => ({ type: 'log.archived', schemaVersion: 1, data });

  it('records a cut the stream is sealed that far for, standing after its position', () => {
    spec(logSealDecider).given([sealed(first), sealed(second)]).when({ type: 'record_archive', archive: archive(11, 10) }).then([archived(archive(11, 10))]);
    spec(logSealDecider).given([sealed(first), sealed(second)]).when({ type: 'record_archive', archive: archive(21, 20) }).then([archived(archive(21, 20))]);
  });

  it('refuses a cut beyond the last seal, on an unsealed stream, or a seal not after what it covers', () => {
    spec(logSealDecider).given([]).when({ type: 'record_archive', archive: archive(11, 10) }).then([], { error: 'invalid_request' });
    spec(logSealDecider).given([sealed(first)]).when({ type: 'record_archive', archive: archive(21, 20) }).then([], { error: 'invalid_request' });
    spec(logSealDecider).given([sealed(first)]).when({ type: 'record_archive', archive: archive(10, 10) }).then([], { error: 'invalid_request' });
  });

  it('cuts only go forward: not at or before the last cut', () => {
    const given = [sealed(first), sealed(second), archived(archive(21, 20))];
    spec(logSealDecider).given(given).when({ type: 'record_archive', archive: archive(21, 20) }).then([], { error: 'invalid_request' });
    spec(logSealDecider).given(given).when({ type: 'record_archive', archive: archive(11, 10) }).then([], { error: 'invalid_request' });
  });

  it('a record does not move the seal chain on', () => {
    const third = seal(30, 29, { upToPosition: 20, runningHash: h(20) });
    spec(logSealDecider).given([sealed(first), sealed(second), archived(archive(21, 20))]).when({ type: 'seal_log', seal: third }).then([sealed(third)]);
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
