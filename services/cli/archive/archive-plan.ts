import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { LogCheckpointSealedV1, type LogArchived } from '../../../contracts/events/log.js';
import { streams } from '../../../contracts/streams.js';
import type { EventStore, RecordedEvent } from '../../../infra/event-store/port.js';
import { PRIVATE_FILE_MODE } from '../../../infra/files/private-files.js';
import { SubsetDigest } from '../../shared/integrity/archive-digest.js';
import { CliError, EXIT } from '../exit-codes.js';
import { readLog } from '../read-log.js';
import { EndedBusiness, type ArchivableAggregate } from './ended-business.js';

/** What `idp archive` will move out: decided from one walk of the log (ended-business.ts). */
export interface ArchivePlan {
  tenant: string;
  sealPosition: number;
  /** The seal's `upToPosition`: the cut. */
  upToPosition: number;
  seal: { runningHash: string; eventCount: number; eventHash: string };
  endedBefore: Date;
  /** The streams to archive whole, with their aggregate. */
  streams: Map<string, ArchivableAggregate>;
}

/** Reads the seal at `sealPosition` (of this tenant) and walks the log once to choose what has ended. */
export async function planArchive(store: EventStore, options: { tenant: string; sealPosition: number; endedBefore: Date }): Promise<ArchivePlan> {
  const [seal] = await store.readAll({ after: options.sealPosition - 1, limit: 1 });
  if (!seal || seal.position !== options.sealPosition || seal.type !== LogCheckpointSealedV1.shape.type.value || seal.streamName !== streams.log(options.tenant)) {
    throw new CliError(EXIT.notFound, `no seal of tenant ${options.tenant} at position ${options.sealPosition} (idp export --type log.checkpoint_sealed lists them)`);
  }
  const statement = LogCheckpointSealedV1.shape.data.parse(seal.data);
  const business = new EndedBusiness();
  for await (const event of readLog(store)) business.feed(event);
  return {
    tenant: options.tenant,
    sealPosition: options.sealPosition,
    upToPosition: statement.upToPosition,
    seal: { runningHash: statement.runningHash, eventCount: statement.eventCount, eventHash: seal.hash },
    endedBefore: options.endedBefore,
    streams: business.archivable(statement.upToPosition, options.endedBefore.getTime()),
  };
}

/**
 * Writes the archive file (created new, 0600; fsynced before it returns): a header line, then
 * every event of the planned streams as stored (position, stream, index, type, version, data,
 * metadata, hash), one JSON line each in position order. Returns what the `log.archived` event
 * states of it: the archived and kept digests up to the cut, and the file's SHA-256.
 */
export async function writeArchiveFile(
  store: EventStore,
  plan: ArchivePlan,
  file: string,
  archivedAt: Date,
): Promise<Omit<LogArchived, 'sealPosition' | 'upToPosition' | 'endedBefore'>> {
  const fd = openSync(file, 'wx', PRIVATE_FILE_MODE);
  try {
    const sha256 = createHash('sha256');
    const write = (record: unknown) => {
      const bytes = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
      sha256.update(bytes);
      writeSync(fd, bytes);
    };
    write({
      kind: 'idp-log-archive',
      version: 2,
      tenant: plan.tenant,
      sealPosition: plan.sealPosition,
      upToPosition: plan.upToPosition,
      sealEventHash: plan.seal.eventHash,
      runningHash: plan.seal.runningHash,
      eventCount: plan.seal.eventCount,
      endedBefore: plan.endedBefore.toISOString(),
      archivedAt: archivedAt.toISOString(),
    });
    const archived = new SubsetDigest('archived');
    const kept = new SubsetDigest('kept');
    const byAggregate = new Map<string, Set<string>>();
    for await (const event of readLog(store, { upTo: plan.upToPosition })) {
      const aggregate = plan.streams.get(event.streamName);
      if (aggregate === undefined) {
        kept.add(event);
        continue;
      }
      archived.add(event);
      write(archiveRecord(event));
      let names = byAggregate.get(aggregate);
      if (!names) byAggregate.set(aggregate, (names = new Set()));
      names.add(event.streamName);
    }
    fsyncSync(fd);
    closeSync(fd);
    const streamCounts = Object.fromEntries([...byAggregate].sort(([a], [b]) => a.localeCompare(b)).map(([aggregate, names]) => [aggregate, names.size]));
    return { archived: { ...archived.value(), streams: streamCounts }, kept: kept.value(), fileSha256: sha256.digest('hex') };
  } catch (error) {
    closeSync(fd);
    unlinkSync(file);
    throw error;
  }
}

function archiveRecord(event: RecordedEvent): Record<string, unknown> {
  return {
    position: event.position,
    streamName: event.streamName,
    streamIndex: event.streamIndex,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    hash: event.hash,
  };
}
