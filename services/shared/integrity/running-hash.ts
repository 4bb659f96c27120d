import { createHash, hash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { LogCheckpointSealed } from '../../../contracts/events/log.js';

/**
 * The running hash of `$all` that the sealed checkpoints sign (DESIGN §4; contracts/events/log.ts):
 *
 * - H0 = SHA-256 of the UTF-8 bytes `idp/log-seal/v1/running-hash/genesis` (hex): fixed, public,
 *   and no event hash or other digest of ours starts from it;
 * - Hn = SHA-256(UTF-8(H(n-1) hex) || UTF-8(event.hash)) (hex), for every event in position order.
 *
 * H(n-1) is always 64 hex characters, so the concatenation is unambiguous whatever the stored
 * hash of an edited event looks like. The position is not hashed: an event dropped or inserted
 * changes every later Hn anyway, and the anchor pins the position of the latest seal.
 */
export const RUNNING_HASH_GENESIS = createHash('sha256').update('idp/log-seal/v1/running-hash/genesis', 'utf8').digest('hex');

export function nextRunningHash(previous: string, eventHash: string): string {
  return hash('sha256', previous + eventHash, 'hex');
}

/** The running hash after one more event, with its count and position. */
export interface RunningHashState {
  /** Position of the last event folded in; 0 before any. */
  position: number;
  runningHash: string;
  /** Events folded in since the start of the log (archived ones included). */
  eventCount: number;
}

export const RUNNING_HASH_START: RunningHashState = { position: 0, runningHash: RUNNING_HASH_GENESIS, eventCount: 0 };

export function foldEvent(state: RunningHashState, event: { position: number; hash: string }): RunningHashState {
  return { position: event.position, runningHash: nextRunningHash(state.runningHash, event.hash), eventCount: state.eventCount + 1 };
}

/** What a seal signs: its tenant and every field of its data but the key and the signature. */
export type SealStatement = Pick<LogCheckpointSealed, 'upToPosition' | 'runningHash' | 'eventCount' | 'previousSeal' | 'sealedAt'> & {
  tenant: string;
};

/**
 * The bytes signed: the RFC 8785 canonical JSON of the statement under a domain label, so a
 * seal signature can never be taken for a signature over anything else.
 */
export function sealStatementBytes(statement: SealStatement): Buffer {
  const text = canonicalize({
    domain: 'idp/log-seal/v1',
    tenant: statement.tenant,
    upToPosition: statement.upToPosition,
    runningHash: statement.runningHash,
    eventCount: statement.eventCount,
    previousSeal: statement.previousSeal,
    sealedAt: statement.sealedAt,
  });
  if (text === undefined) throw new Error('seal statement is not serialisable');
  return Buffer.from(text, 'utf8');
}
