/**
 * How hard the SQLite event store syncs a commit to disk before `append` resolves (SQLite's
 * `PRAGMA synchronous`, https://www.sqlite.org/pragma.html#pragma_synchronous). A token is
 * answered only after its event is appended, so this is the durability of every answer.
 *
 * - `full` (the default): the WAL file is fsynced before any append of a commit resolves, so an
 *   appended event survives a process kill, an OS crash and a power loss (as far as the disk
 *   honours fsync). The store does that fsync itself, off the event loop, one for every commit
 *   made while the previous one ran (sqlite-wal-sync.ts); SQLite runs with `PRAGMA synchronous =
 *   NORMAL` under it.
 * - `normal`: the WAL is fsynced only at checkpoints. An appended event survives a process kill,
 *   but the last commits may roll back after an OS crash or power loss; the file stays
 *   consistent either way. Faster, and a choice an operator has to make explicitly.
 *
 * Kept apart from the store so that the configuration parser can name the levels without
 * loading the native SQLite binding.
 */
export const SQLITE_SYNCHRONOUS = ['full', 'normal'] as const;
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS)[number];

/** The safe choice is the default. */
export const DEFAULT_SQLITE_SYNCHRONOUS: SqliteSynchronous = 'full';

/**
 * The `PRAGMA synchronous` each level runs SQLite with, and what it reads back (0 OFF, 1 NORMAL,
 * 2 FULL, 3 EXTRA): NORMAL for both, `full` adding the store's own fsync of the WAL.
 */
export const SYNCHRONOUS_PRAGMA: Record<SqliteSynchronous, { name: 'NORMAL' | 'FULL'; value: number }> = {
  normal: { name: 'NORMAL', value: 1 },
  full: { name: 'NORMAL', value: 1 },
};

/** A level from configuration (case-insensitive); anything else throws, naming the accepted ones. */
export function parseSqliteSynchronous(value: string): SqliteSynchronous {
  const level = value.toLowerCase();
  if ((SQLITE_SYNCHRONOUS as readonly string[]).includes(level)) return level as SqliteSynchronous;
  throw new RangeError(`unsupported SQLite synchronous "${value}": use ${SQLITE_SYNCHRONOUS.join(' or ')}`);
}
