import type { RecordedEvent } from './port.js';

/**
 * The events this connection appended last, decoded once, for the subscriptions that follow the
 * log (issue 12): after each commit every follower (the projectors, the back-channel sender,
 * the log sealer) reads what is new; served from here, the rows are neither read nor parsed
 * again per follower. Only ever a contiguous run of positions ending at the log's head: the
 * store clears it when another connection committed (`PRAGMA data_version`) or a position
 * does not follow the last one, and then the followers read SQLite as before.
 *
 * The records are shared between the followers: they must not change them (none does).
 */
export class RecentTail {
  private events: RecordedEvent[] = [];

  constructor(private readonly capacity: number) {}

  /** Appends committed records in position order; a gap starts the tail afresh. */
  push(records: readonly RecordedEvent[]): void {
    for (const record of records) {
      const last = this.events[this.events.length - 1];
      if (last !== undefined && record.position !== last.position + 1) this.events = [];
      this.events.push(record);
    }
    if (this.events.length > this.capacity) this.events = this.events.slice(this.events.length - this.capacity / 2);
  }

  clear(): void {
    this.events = [];
  }

  /**
   * The events after `after` (at most `limit`), when the tail covers them: every event up to the
   * head is here. Undefined when it does not (the caller reads SQLite).
   */
  after(after: number, limit: number | undefined): RecordedEvent[] | undefined {
    const first = this.events[0];
    if (first === undefined || after < first.position - 1) return undefined;
    const start = after - first.position + 1;
    if (start >= this.events.length) return [];
    return this.events.slice(start, limit === undefined ? undefined : start + limit);
  }
}
