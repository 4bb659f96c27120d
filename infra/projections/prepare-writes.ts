import { ProjectionWriteRejectedError, type CheckpointedApply, type ProjectionWrite } from './port.js';

/** Latest and earliest times a JavaScript Date can hold (and Redis's PEXPIREAT accepts). */
const MAX_TIME_MS = 8.64e15;

/** One key's write, serialised: `json` undefined marks a tombstone. */
export interface PreparedWrite {
  json: string | undefined;
  expiresAt: number | undefined;
}

/**
 * Validates and serialises one event's writes before any store touches anything, the same way
 * for every adapter, so that a bad value leaves every store untouched and is refused alike
 * (ProjectionWriteRejectedError). Within one event the last write to a key wins, as all of them
 * carry the same position.
 */
export function prepareWrites(
  writes: ProjectionWrite[],
  position: number,
  checkpoint: CheckpointedApply | undefined,
): Map<string, PreparedWrite> {
  if (!Number.isSafeInteger(position)) throw new ProjectionWriteRejectedError(`projection position must be an integer: ${position}`);
  const { expectAtLeast } = checkpoint ?? {};
  if (expectAtLeast !== undefined && !Number.isSafeInteger(expectAtLeast)) {
    throw new ProjectionWriteRejectedError(`invalid expectAtLeast: ${expectAtLeast}`);
  }
  const prepared = new Map<string, PreparedWrite>();
  for (const write of writes) {
    if (write.kind === 'delete') {
      prepared.set(write.key, { json: undefined, expiresAt: undefined });
      continue;
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(write.value);
    } catch (error) {
      // A BigInt, a cycle: JSON.stringify throws rather than answer undefined.
      throw new ProjectionWriteRejectedError(`projection value for ${write.key} is not JSON: ${(error as Error).message}`);
    }
    if (json === undefined) throw new ProjectionWriteRejectedError(`projection value for ${write.key} is not JSON`);
    const { expiresAt } = write;
    if (expiresAt !== undefined && (!Number.isFinite(expiresAt) || Math.abs(expiresAt) > MAX_TIME_MS)) {
      throw new ProjectionWriteRejectedError(`expiresAt of ${write.key} is not an epoch-ms time: ${expiresAt}`);
    }
    prepared.set(write.key, { json, expiresAt });
  }
  return prepared;
}
