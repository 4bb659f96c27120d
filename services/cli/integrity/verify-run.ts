import { LogArchivedV1, LogCheckpointSealedV1 } from '../../../contracts/events/log.js';
import { streams } from '../../../contracts/streams.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { LogAnchor } from '../../shared/integrity/anchor.js';
import { SealVerifier, type ArchiveCut, type SealReport } from '../../shared/integrity/seal-verifier.js';
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
  const found = await findArchiveCut(store, options.tenant);
  const archiveCut = found && 'cut' in found ? found.cut : undefined;
  const chains = new LogVerifier();
  const seals = new SealVerifier({ anchor: options.anchor, archiveCut });
  let count = 0;
  for await (const event of readLog(store)) {
    chains.feed(event);
    seals.feed(event);
    if (++count % 1000 === 0) options.onProgress?.(count, event.position);
  }
  options.onProgress?.(count, chains.progress().position);
  const chainReport = chains.report();
  const { failures: sealFailures, failureCount: sealFailureCount, ...sealSummary } = seals.report();
  const recordFailures: VerifyFailure[] = found && 'invalid' in found ? [found.invalid] : [];
  const failures: VerifyFailure[] = [
    ...recordFailures,
    ...chainReport.failures.map((f) => ({ ...f })),
    ...sealFailures.map((f) => ({ ...f, streamIndex: null, eventId: null })),
  ].sort((a, b) => a.position - b.position);
  const failureCount = recordFailures.length + chainReport.failureCount + sealFailureCount;
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
 * The last archive cut (`idp archive`): the last `log.archived` record of the tenant's log
 * stream, and the seal it stands on, which must be in the stream at the position the record names
 * and cover up to where the record says. Seals and records are never archived themselves.
 */
async function findArchiveCut(store: EventStore, tenant: string): Promise<{ cut: ArchiveCut } | { invalid: VerifyFailure } | undefined> {
  const { events } = await store.readStream(streams.log(tenant));
  const record = events.findLast((event) => event.type === LogArchivedV1.shape.type.value);
  if (!record) return undefined;
  const invalid = (detail: string) => ({
    invalid: { reason: 'archive_record_invalid', position: record.position, streamName: record.streamName, streamIndex: record.streamIndex, eventId: null, detail },
  });
  const archived = LogArchivedV1.shape.data.safeParse(record.data);
  if (!archived.success) return invalid(`data: ${archived.error.issues[0]?.message ?? 'invalid'}`);
  const sealEvent = events.find((event) => event.position === archived.data.sealPosition);
  const seal = LogCheckpointSealedV1.shape.data.safeParse(sealEvent?.data);
  if (!sealEvent || sealEvent.type !== LogCheckpointSealedV1.shape.type.value || !seal.success || seal.data.upToPosition !== archived.data.upToPosition) {
    return invalid(`no seal at position ${archived.data.sealPosition} covering up to ${archived.data.upToPosition}`);
  }
  return {
    cut: {
      start: { position: seal.data.upToPosition, runningHash: seal.data.runningHash, eventCount: seal.data.eventCount },
      kept: archived.data.kept,
      recordPosition: record.position,
    },
  };
}
