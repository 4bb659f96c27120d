import { LogCheckpointSealedV1 } from '../../../contracts/events/log.js';
import { streams } from '../../../contracts/streams.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { LogAnchor } from '../../shared/integrity/anchor.js';
import type { RunningHashState } from '../../shared/integrity/running-hash.js';
import { SealVerifier, type SealReport } from '../../shared/integrity/seal-verifier.js';
import { LogVerifier } from '../../shared/integrity/verify-log.js';
import { readLog } from '../read-log.js';

/** One failure of either check, in the shape `idp verify --json` prints. */
export interface VerifyFailure {
  reason: string;
  position: number;
  streamName: string | null;
  streamIndex: number | null;
  eventId: string | null;
  detail: string;
}

export interface VerifyRunReport {
  ok: boolean;
  /** The lowest position of any failure; null when there is none. */
  firstBrokenPosition: number | null;
  eventsChecked: number;
  streamsChecked: number;
  lastPosition: number;
  seals: Omit<SealReport, 'failures' | 'failureCount'>;
  failureCount: number;
  /** In position order (at most 1000 of each kind). */
  failures: VerifyFailure[];
}

/**
 * `idp verify`'s walk: `$all` once, every event through the per-stream chain check
 * (LogVerifier) and the running hash with its seals (SealVerifier), then the anchor. Memory is
 * per stream and a bounded window of running hashes, never the log.
 */
export async function verifyLogAndSeals(
  store: EventStore,
  options: { tenant: string; anchor?: LogAnchor | undefined; onProgress?: (eventsChecked: number, position: number) => void },
): Promise<VerifyRunReport> {
  const archiveCut = await findArchiveCut(store, options.tenant);
  const chains = new LogVerifier({ startsAfterCut: archiveCut !== undefined });
  const seals = new SealVerifier({ anchor: options.anchor, archiveCut });
  let count = 0;
  for await (const event of readLog(store, archiveCut ? { after: 0 } : {})) {
    chains.feed(event);
    seals.feed(event);
    if (++count % 1000 === 0) options.onProgress?.(count, event.position);
  }
  options.onProgress?.(count, chains.progress().position);
  const chainReport = chains.report();
  const { failures: sealFailures, failureCount: sealFailureCount, ...sealSummary } = seals.report();
  const failures: VerifyFailure[] = [
    ...chainReport.failures.map((f) => ({ ...f })),
    ...sealFailures.map((f) => ({ ...f, streamIndex: null, eventId: null })),
  ].sort((a, b) => a.position - b.position);
  const failureCount = chainReport.failureCount + sealFailureCount;
  return {
    ok: failureCount === 0,
    firstBrokenPosition: failures[0]?.position ?? null,
    eventsChecked: chainReport.eventsChecked,
    streamsChecked: chainReport.streamsChecked,
    lastPosition: chainReport.lastPosition,
    seals: sealSummary,
    failureCount,
    failures,
  };
}

/**
 * A log whose beginning was archived starts after its first seal's position: the events that
 * seal covers are gone, and the walk starts from what it states (its signature is checked on
 * the way like every seal's). In a whole log the first seal covers events that are there.
 */
async function findArchiveCut(store: EventStore, tenant: string): Promise<RunningHashState | undefined> {
  const [first] = await store.readAll({ after: 0, limit: 1 });
  if (!first) return undefined;
  const { events } = await store.readStream(streams.log(tenant));
  const firstSeal = events[0];
  if (!firstSeal) return undefined;
  const parsed = LogCheckpointSealedV1.shape.data.safeParse(firstSeal.data);
  if (!parsed.success || parsed.data.upToPosition >= first.position) return undefined;
  return { position: parsed.data.upToPosition, runningHash: parsed.data.runningHash, eventCount: parsed.data.eventCount };
}
