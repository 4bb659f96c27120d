import type { LogArchived, LogCheckpointSealed, LogEvent } from '../../../../contracts/events/log.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { accept, reject, type Decider, type Decision } from '../../../shared/domain/decider.js';

/** The last seal of the tenant's `log-<tenant>` stream, if any, and how far the log is archived. */
export interface LogSealState {
  last: { upToPosition: number; runningHash: string; eventCount: number } | null;
  /** The `upToPosition` of the last `log.archived`, or null. */
  archivedUpTo: number | null;
}

/**
 * Seal the log up to a position. The running hash, the time and the signature come in the
 * command (the caller folds `$all` and holds the key); the decision is only whether this seal
 * moves the chain on: a seal at or below the last one (another replica sealed as far or further
 * while this one was deciding) writes nothing.
 */
export interface SealLogCommand {
  type: 'seal_log';
  seal: LogCheckpointSealed;
}

/**
 * Record an archive cut (`idp archive`): the store's adapter deletes what it names in the same
 * transaction as this append (infra/event-store/sqlite-archive.ts). Refused unless the stream is
 * sealed at least that far and the cut moves on: cuts only ever go forward. (That a seal stands
 * exactly at `sealPosition` is the caller's check, and `idp verify`'s.)
 */
export interface RecordArchiveCommand {
  type: 'record_archive';
  archive: LogArchived;
}

export type LogSealCommand = SealLogCommand | RecordArchiveCommand;

export function decideLogSeal(command: LogSealCommand, state: LogSealState): Decision<LogEvent> {
  switch (command.type) {
    case 'seal_log': {
      const { seal } = command;
      if (state.last && seal.upToPosition <= state.last.upToPosition) return accept();
      // Signed against another chain head than this stream's: the caller built it from stale state.
      const previous = seal.previousSeal;
      const chained = state.last === null
        ? previous === null
        : previous !== null && previous.upToPosition === state.last.upToPosition && previous.runningHash === state.last.runningHash;
      if (!chained) return accept();
      if (state.last && seal.eventCount <= state.last.eventCount) return accept();
      return accept({ type: 'log.checkpoint_sealed', schemaVersion: 1, data: seal });
    }
    case 'record_archive': {
      const { archive } = command;
      if (state.last === null || archive.upToPosition > state.last.upToPosition || archive.sealPosition <= archive.upToPosition) {
        return reject(new OAuthError('invalid_request', `the log is not sealed up to ${archive.upToPosition} by a seal at ${archive.sealPosition}`, { mayRedirect: false }));
      }
      if (state.archivedUpTo !== null && archive.upToPosition <= state.archivedUpTo) {
        return reject(new OAuthError('invalid_request', `the log is archived up to ${state.archivedUpTo} already`, { mayRedirect: false }));
      }
      return accept({ type: 'log.archived', schemaVersion: 1, data: archive });
    }
  }
}

export function evolveLogSeal(state: LogSealState, event: LogEvent): LogSealState {
  switch (event.type) {
    case 'log.checkpoint_sealed':
      return {
        ...state,
        last: { upToPosition: event.data.upToPosition, runningHash: event.data.runningHash, eventCount: event.data.eventCount },
      };
    case 'log.archived':
      return { ...state, archivedUpTo: event.data.upToPosition };
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}

export const logSealDecider: Decider<LogSealState, LogSealCommand, LogEvent> = {
  initialState: () => ({ last: null, archivedUpTo: null }),
  evolve: evolveLogSeal,
  decide: decideLogSeal,
};
