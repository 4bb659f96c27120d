import type { LogCheckpointSealed, LogEvent } from '../../../../contracts/events/log.js';
import { accept, type Decider, type Decision } from '../../../shared/domain/decider.js';

/** The last seal of the tenant's `log-<tenant>` stream, if any. */
export interface LogSealState {
  last: { upToPosition: number; runningHash: string; eventCount: number } | null;
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

export type LogSealCommand = SealLogCommand;

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
  }
}

export function evolveLogSeal(state: LogSealState, event: LogEvent): LogSealState {
  switch (event.type) {
    case 'log.checkpoint_sealed':
      return { last: { upToPosition: event.data.upToPosition, runningHash: event.data.runningHash, eventCount: event.data.eventCount } };
    default: {
      const exhaustive: never = event.type;
      return exhaustive;
    }
  }
}

export const logSealDecider: Decider<LogSealState, LogSealCommand, LogEvent> = {
  initialState: () => ({ last: null }),
  evolve: evolveLogSeal,
  decide: decideLogSeal,
};
