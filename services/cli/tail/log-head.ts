import type { EventStore } from '../../../infra/event-store/port.js';

/**
 * The position of the last event of `$all` (0: an empty log), found with a logarithmic number of
 * one-event reads rather than a walk over the log: `readAll({ after, limit: 1 })` says whether
 * anything lies beyond a position, and where the next event is. Works on every adapter, whatever
 * its positions look like (dense in SQLite, `sequence * 1024` in JetStream).
 */
export async function logHead(store: EventStore): Promise<number> {
  const next = async (after: number) => (await store.readAll({ after, limit: 1 }))[0]?.position;
  let low = await next(0);
  if (low === undefined) return 0;
  // An upper bound: nothing after `high`.
  let high = Math.max(low * 2, 1024);
  for (let beyond = await next(high); beyond !== undefined; beyond = await next(high)) {
    low = beyond;
    high = Math.max(high * 2, beyond * 2);
  }
  // `low` is an event's position, nothing lies after `high`; halve the gap until nothing lies after `low`.
  for (;;) {
    const after = await next(low);
    if (after === undefined) return low;
    low = after;
    const middle = Math.floor((low + high) / 2);
    const beyondMiddle = middle > low ? await next(middle) : undefined;
    if (beyondMiddle === undefined) high = Math.max(low, middle);
    else low = beyondMiddle;
  }
}
