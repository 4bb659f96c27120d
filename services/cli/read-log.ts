import type { EventStore, RecordedEvent } from '../../infra/event-store/port.js';

export interface ReadLogOptions {
  /** Events with a position strictly greater than this; default 0 (from the start). */
  after?: number;
  /** Stop after this position (e.g. the head when the command started); default: to the end. */
  upTo?: number;
  /** Events per `readAll` page; default 1000. */
  pageSize?: number;
  /** Only events of these types, read through the store's readAllOfTypes (which leaves the others undecoded). */
  types?: readonly string[];
}

/**
 * `$all` in order, page by page, as one async sequence: memory holds one page, never the log.
 * Every read command of `idp` walks the log through here.
 */
export async function* readLog(store: EventStore, options: ReadLogOptions = {}): AsyncGenerator<RecordedEvent> {
  const pageSize = options.pageSize ?? 1000;
  const upTo = options.upTo ?? Number.POSITIVE_INFINITY;
  let after = options.after ?? 0;
  const types = options.types;
  if (types !== undefined && store.readAllOfTypes === undefined) throw new Error('this store cannot read by type');
  for (;;) {
    const page = types === undefined ? await store.readAll({ after, limit: pageSize }) : await store.readAllOfTypes!(types, { after, limit: pageSize });
    if (page.length === 0) return;
    for (const event of page) {
      if (event.position <= after) throw new Error(`readAll after ${after} returned position ${event.position}`);
      if (event.position > upTo) return;
      after = event.position;
      yield event;
    }
  }
}
