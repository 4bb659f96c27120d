import { createHash } from 'node:crypto';
import { nextRunningHash } from './running-hash.js';

/**
 * The digests a `log.archived` event states (contracts/events/log.ts): over the events that were
 * archived, and over those that stayed at or before the cut, each in position order, built like
 * the running hash (services/shared/integrity/running-hash.ts) from its own domain-separated
 * start, so neither can be taken for the other or for a running hash.
 */
export type ArchiveSubset = 'archived' | 'kept';

const START: Record<ArchiveSubset, string> = {
  archived: createHash('sha256').update('idp/log-archive/v1/archived', 'utf8').digest('hex'),
  kept: createHash('sha256').update('idp/log-archive/v1/kept', 'utf8').digest('hex'),
};

export class SubsetDigest {
  private hash: string;
  private count = 0;

  constructor(subset: ArchiveSubset) {
    this.hash = START[subset];
  }

  add(event: { hash: string }): void {
    this.hash = nextRunningHash(this.hash, event.hash);
    this.count++;
  }

  value(): { events: number; digest: string } {
    return { events: this.count, digest: this.hash };
  }
}
