import type { ExpectedVersion, StreamVersion } from './port.js';

/** What every adapter means by an expected version (port.ts: `append`). */
export function versionMatches(expected: ExpectedVersion, actual: StreamVersion | null): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === null;
  return expected === actual;
}

/** The arguments every adapter's `readAll` accepts. */
export function checkReadRange(after: number, limit: number | undefined): void {
  if (!Number.isFinite(after)) throw new RangeError(`after must be a finite number, got ${after}`);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
}
