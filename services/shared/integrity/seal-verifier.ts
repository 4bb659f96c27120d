import { LogCheckpointSealedV1 } from '../../../contracts/events/log.js';
import { parseStreamName } from '../../../contracts/streams.js';
import type { RecordedEvent } from '../../../infra/event-store/port.js';
import type { LogAnchor } from './anchor.js';
import { SubsetDigest } from './archive-digest.js';
import { foldEvent, RUNNING_HASH_START, type RunningHashState } from './running-hash.js';
import { keyIdOf, sealSignatureValid } from './seal-key.js';

/**
 * Why the sealed checkpoints or the anchor do not hold (DESIGN §4). Beside the per-stream chain
 * failures of check-event.ts, these are what catch a log rewritten consistently (every hash
 * recomputed: only the signature gives it away), an event dropped anywhere, or a tail cut off
 * (only the anchor kept outside the store gives that away).
 */
export const SEAL_FAILURE_REASONS = [
  /** A `log.checkpoint_sealed` that does not parse, stands outside a `log-<tenant>` stream, or names a key it does not carry. */
  'seal_malformed',
  /** The seal's position is not before the seal itself. */
  'seal_not_after_its_position',
  /** No event at the position the seal covers up to (dropped), or too far back to check. */
  'seal_position_unknown',
  /** The running hash of the log up to the seal's position is not what the seal states. */
  'seal_running_hash_mismatch',
  /** The number of events up to the seal's position is not what the seal states. */
  'seal_event_count_mismatch',
  /** The signature does not verify over the seal's statement: the seal (or what it states) was edited. */
  'seal_signature_invalid',
  /** Signed with another key than the pinned one (the anchor's, else the log's first seal's). */
  'seal_key_mismatch',
  /** Not chained to the seal before it on its stream, or not further than it. */
  'seal_chain_broken',
  /** The anchored seal is not in the log any more: the log was cut short or rewritten. */
  'anchor_seal_missing',
  /** The event at the anchored seal's position is not the anchored seal. */
  'anchor_seal_changed',
  /** The running hash of the log at the anchored position is not the anchored one. */
  'anchor_running_hash_mismatch',
  /** The anchor file's own signature does not verify: the anchor is not a seal of this key. */
  'anchor_signature_invalid',
  /** A `log.archived` record that does not parse, or does not stand on the seal it names. */
  'archive_record_invalid',
  /** What stayed before an archive cut is not what its record states: a kept event was dropped, added or edited. */
  'archive_kept_mismatch',
] as const;
export type SealFailureReason = (typeof SEAL_FAILURE_REASONS)[number];

export interface SealFailure {
  reason: SealFailureReason;
  position: number;
  streamName: string | null;
  detail: string;
}

export interface SealReport {
  sealsChecked: number;
  /** The last seal seen: its own position and what it covers. */
  lastSeal: { position: number; upToPosition: number; keyId: string } | null;
  /** Events after the last seal's position: not covered by any seal yet. */
  eventsAfterLastSeal: number;
  /** The public key seals must carry (the anchor's, else the first seal's). */
  pinnedKey: string | null;
  /** Where the running hash starts when ended business before a seal was archived, else null. */
  archiveCut: { upToPosition: number; eventCount: number; keptEvents: number; recordPosition: number } | null;
  /** With an anchor: whether the log still reaches it. */
  anchor: { sealPosition: number; reached: boolean } | null;
  runningHash: string;
  failures: SealFailure[];
  failureCount: number;
}

export interface SealVerifierOptions {
  /** The latest seal kept outside the store (`--anchor`): pins the key, and the log must reach it. */
  anchor?: LogAnchor | undefined;
  /** A log archived up to a seal (verify-run.ts finds its `log.archived` record). */
  archiveCut?: ArchiveCut | undefined;
  /** Running hashes kept back to check a seal against; default 65,536 positions. */
  historySize?: number;
  maxFailures?: number;
}

const SEAL_TYPE = LogCheckpointSealedV1.shape.type.value;

/**
 * The last archive cut (contracts/events/log.ts `log.archived`): the running hash starts from the
 * seal's statement at `start`, and the events that stayed at or before it are held to `kept`.
 */
export interface ArchiveCut {
  start: RunningHashState;
  kept: { events: number; digest: string };
  /** Where the `log.archived` record stands. */
  recordPosition: number;
}

/**
 * Walks `$all` once with the running hash and checks every seal on the way (and the anchor at
 * the end). A seal covers a position just before itself, so the running hash of the last
 * `historySize` positions is kept (a seal written more events than that after its position is
 * reported as `seal_position_unknown`); memory stays bounded whatever the log's length.
 */
export class SealVerifier {
  private running: RunningHashState;
  private readonly history = new Map<number, RunningHashState>();
  private readonly lastSealOfStream = new Map<string, { upToPosition: number; runningHash: string }>();
  private readonly failures: SealFailure[] = [];
  private failureCount = 0;
  private sealsChecked = 0;
  private lastSeal: SealReport['lastSeal'] = null;
  private eventsAfterLastSeal = 0;
  private pinnedKey: string | null;
  private anchorReached = false;
  private anchorPositionChecked = false;
  private anchorSignatureChecked = false;
  private readonly historySize: number;
  private readonly maxFailures: number;
  /** Before an archive cut: the digest of what stayed, until the walk passes the cut. */
  private kept: SubsetDigest | null;

  constructor(private readonly options: SealVerifierOptions = {}) {
    this.running = options.archiveCut?.start ?? RUNNING_HASH_START;
    this.kept = options.archiveCut ? new SubsetDigest('kept') : null;
    this.history.set(this.running.position, this.running);
    this.pinnedKey = options.anchor?.publicKey ?? null;
    this.historySize = options.historySize ?? 65_536;
    this.maxFailures = options.maxFailures ?? 1000;
  }

  feed(event: RecordedEvent): void {
    if (this.kept) {
      if (event.position <= this.running.position) {
        // Before the cut: what stayed is only counted into its digest (the seal vouches for the running hash).
        this.kept.add(event);
        if (event.type === SEAL_TYPE) this.checkSeal(event, { beforeCut: true });
        this.checkAnchoredSeal(event);
        return;
      }
      this.passCut();
    }
    this.running = foldEvent(this.running, event);
    this.history.set(event.position, this.running);
    if (this.history.size > this.historySize) this.history.delete(this.history.keys().next().value!);
    this.eventsAfterLastSeal++;

    const anchor = this.options.anchor;
    if (anchor && event.position === anchor.upToPosition) this.checkAnchorPosition(this.running, event.position);
    if (event.type === SEAL_TYPE) this.checkSeal(event);
    this.checkAnchoredSeal(event);
  }

  private checkAnchoredSeal(event: RecordedEvent): void {
    const anchor = this.options.anchor;
    if (!anchor || event.position !== anchor.sealPosition) return;
    this.anchorReached = true;
    if (event.hash !== anchor.sealEventHash) {
      this.fail('anchor_seal_changed', event, `stored hash ${event.hash}, the anchor's ${anchor.sealEventHash}`);
    } else if (!this.sameStatement(event, anchor)) {
      this.fail('anchor_seal_changed', event, 'the seal at the anchored position states something else than the anchor');
    }
  }

  report(): SealReport {
    if (this.kept) this.passCut();
    const anchor = this.options.anchor;
    if (anchor) {
      if (!this.anchorSignatureChecked) {
        this.anchorSignatureChecked = true;
        if (!sealSignatureValid(anchor.tenant, anchor)) {
          this.fail('anchor_signature_invalid', { position: anchor.sealPosition, streamName: null }, `the anchor's signature does not verify under its own key ${anchor.keyId}`);
        }
      }
      const cut = this.options.archiveCut?.start;
      if (!this.anchorPositionChecked && cut?.position === anchor.upToPosition) this.checkAnchorPosition(cut, anchor.upToPosition);
      // An anchored seal from before the cut: its running hash is gone with the archive; the seal itself is still checked against the anchor.
      if (!this.anchorPositionChecked && cut && anchor.upToPosition < cut.position) this.anchorPositionChecked = true;
      if (!this.anchorReached) {
        this.fail('anchor_seal_missing', { position: anchor.sealPosition, streamName: null }, `the log ends at position ${this.running.position}, before the anchored seal at ${anchor.sealPosition} (sealed ${anchor.sealedAt}): it was cut short or rewritten`);
      } else if (!this.anchorPositionChecked) {
        this.fail('anchor_running_hash_mismatch', { position: anchor.upToPosition, streamName: null }, `no event at the anchored position ${anchor.upToPosition}`);
      }
    }
    return {
      sealsChecked: this.sealsChecked,
      lastSeal: this.lastSeal,
      eventsAfterLastSeal: this.eventsAfterLastSeal,
      pinnedKey: this.pinnedKey,
      archiveCut: this.options.archiveCut
        ? {
            upToPosition: this.options.archiveCut.start.position,
            eventCount: this.options.archiveCut.start.eventCount,
            keptEvents: this.options.archiveCut.kept.events,
            recordPosition: this.options.archiveCut.recordPosition,
          }
        : null,
      anchor: anchor ? { sealPosition: anchor.sealPosition, reached: this.anchorReached } : null,
      runningHash: this.running.runningHash,
      failures: [...this.failures],
      failureCount: this.failureCount,
    };
  }

  /** Leaving the events before the cut: what stayed must be what the archive record states. */
  private passCut(): void {
    const found = this.kept!.value();
    this.kept = null;
    const cut = this.options.archiveCut!;
    if (found.events !== cut.kept.events || found.digest !== cut.kept.digest) {
      this.fail('archive_kept_mismatch', { position: cut.start.position, streamName: null }, `${found.events} events stayed up to position ${cut.start.position}, the log.archived record at ${cut.recordPosition} states ${cut.kept.events}${found.events === cut.kept.events ? ' with another digest' : ''}`);
    }
  }

  private checkAnchorPosition(state: RunningHashState, position: number): void {
    const anchor = this.options.anchor!;
    this.anchorPositionChecked = true;
    if (state.runningHash !== anchor.runningHash || state.eventCount !== anchor.eventCount) {
      this.fail('anchor_running_hash_mismatch', { position, streamName: null }, `running hash ${state.runningHash} over ${state.eventCount} events, the anchor's ${anchor.runningHash} over ${anchor.eventCount}`);
    }
  }

  private sameStatement(event: RecordedEvent, anchor: LogAnchor): boolean {
    const parsed = LogCheckpointSealedV1.shape.data.safeParse(event.data);
    if (!parsed.success) return false;
    const seal = parsed.data;
    return (
      seal.upToPosition === anchor.upToPosition &&
      seal.runningHash === anchor.runningHash &&
      seal.eventCount === anchor.eventCount &&
      seal.signature === anchor.signature &&
      seal.sealedAt === anchor.sealedAt &&
      JSON.stringify(seal.previousSeal) === JSON.stringify(anchor.previousSeal) &&
      seal.publicKey === anchor.publicKey
    );
  }

  private checkSeal(event: RecordedEvent, options: { beforeCut?: boolean } = {}): void {
    this.sealsChecked++;
    const place = parseStreamName(event.streamName);
    const parsed = LogCheckpointSealedV1.shape.data.safeParse(event.data);
    if (!place || place.aggregate !== 'log' || !parsed.success) {
      this.fail('seal_malformed', event, !parsed.success ? `data: ${parsed.error.issues[0]?.message ?? 'invalid'}` : 'a seal outside a log-<tenant> stream');
      return;
    }
    const seal = parsed.data;
    this.lastSeal = { position: event.position, upToPosition: seal.upToPosition, keyId: seal.keyId };
    this.eventsAfterLastSeal = [...this.history.keys()].filter((p) => p > seal.upToPosition).length;

    if (seal.keyId !== keyIdOf(seal.publicKey)) this.fail('seal_malformed', event, `keyId ${seal.keyId} does not name the key it carries`);
    if (seal.upToPosition >= event.position) {
      this.fail('seal_not_after_its_position', event, `covers up to ${seal.upToPosition}, stands at ${event.position}`);
    } else if (!options.beforeCut) {
      const at = this.history.get(seal.upToPosition);
      if (!at) {
        this.fail('seal_position_unknown', event, `no event at position ${seal.upToPosition}, which the seal covers up to (dropped, or more than ${this.historySize} events back)`);
      } else if (at.runningHash !== seal.runningHash) {
        this.fail('seal_running_hash_mismatch', event, `the log's running hash at ${seal.upToPosition} is ${at.runningHash}, the seal states ${seal.runningHash}`);
      } else if (at.eventCount !== seal.eventCount) {
        this.fail('seal_event_count_mismatch', event, `${at.eventCount} events up to ${seal.upToPosition}, the seal states ${seal.eventCount}`);
      }
    }
    if (!sealSignatureValid(place.tenant, seal)) this.fail('seal_signature_invalid', event, `the signature of key ${seal.keyId} does not verify over what the seal states`);
    this.pinnedKey ??= seal.publicKey;
    if (seal.publicKey !== this.pinnedKey) {
      this.fail('seal_key_mismatch', event, `signed by key ${seal.keyId}, the ${this.options.anchor ? "anchor's" : "log's first seal's"} key is ${keyIdOf(this.pinnedKey)}`);
    }

    // Seals are never archived: every seal's chain is checked from the stream's first.
    const previous = this.lastSealOfStream.get(event.streamName);
    const stated = seal.previousSeal;
    const chained =
      previous === undefined
        ? stated === null
        : stated !== null && stated.upToPosition === previous.upToPosition && stated.runningHash === previous.runningHash && seal.upToPosition > previous.upToPosition;
    if (!chained) {
      this.fail('seal_chain_broken', event, `previous seal stated ${JSON.stringify(stated)}, the stream's previous seal is ${JSON.stringify(previous ?? null)}`);
    }
    this.lastSealOfStream.set(event.streamName, { upToPosition: seal.upToPosition, runningHash: seal.runningHash });
  }

  private fail(reason: SealFailureReason, at: { position: number; streamName: string | null }, detail: string): void {
    this.failureCount++;
    if (this.failures.length < this.maxFailures) this.failures.push({ reason, position: at.position, streamName: at.streamName, detail });
  }
}
