import { createHash } from 'node:crypto';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { NewEvent } from '../../infra/event-store/port.js';
import { createLogger } from '../../infra/log/logger.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { BACKCHANNEL_LOGOUT_CHECKPOINT, BackchannelLogoutSender, type SenderDeps } from '../../services/token-issuer/app/backchannel-logout/sender.js';
import { FlakyProjectionStore } from '../support/flaky-projection-store.js';
import { eventually } from '../support/eventually.js';

function noise(i: number): NewEvent {
  const data = { i };
  const metadata = { time: new Date().toISOString() };
  const hash = createHash('sha256').update(JSON.stringify({ data, metadata })).digest('hex');
  return { type: 'something.else', schemaVersion: 1, data, metadata, hash };
}

/**
 * The back-channel logout sender reads past nearly every event of the log; its checkpoint is
 * written at most every 200 ms and on stopping, not once per event (issue 12).
 */
describe('the back-channel logout sender checkpoint', () => {
  it('is written once for a burst of events it reads past, and on stopping', async () => {
    const store = new InMemoryEventStore();
    const inner = new InMemoryProjectionStore();
    const projections = new FlakyProjectionStore(inner);
    // Events it only reads past need none of a delivery's parts.
    const sender = new BackchannelLogoutSender({ store, projections, logger: createLogger({ level: 'silent' }), clock: () => new Date() } as unknown as SenderDeps);
    sender.start();
    try {
      for (let i = 0; i < 25; i++) await store.append(`noise-${i}`, [noise(i)], 'no_stream');
      await eventually(() => expect(sender.status().position).toBe(25));
      await eventually(async () => expect(await inner.checkpoint(BACKCHANNEL_LOGOUT_CHECKPOINT)).toBe(25));
      expect(projections.applied.length).toBeLessThanOrEqual(2);

      await store.append('noise-last', [noise(25)], 'no_stream');
      await eventually(() => expect(sender.status().position).toBe(26));
    } finally {
      await sender.stop();
    }
    expect(await inner.checkpoint(BACKCHANNEL_LOGOUT_CHECKPOINT)).toBe(26);
    await store.close();
  });
});
