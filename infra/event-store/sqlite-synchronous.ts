/**
 * How hard the SQLite event store syncs a commit to disk before `append` resolves (SQLite's
 * `PRAGMA synchronous`, https://www.sqlite.org/pragma.html#pragma_synchronous). A token is
 * answered only after its event is appended, so this is the durability of every answer.
 *
 * - `full` (the default): the WAL file is fsynced at every commit, so an appended event survives
 *   a process kill, an OS crash and a power loss (as far as the disk honours fsync).
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

/** What `PRAGMA synchronous` reads back for each level (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA). */
export const SYNCHRONOUS_PRAGMA_VALUE: Record<SqliteSynchronous, number> = { normal: 1, full: 2 };

/** A level from configuration (case-insensitive); anything else throws, naming the accepted ones. */
export function parseSqliteSynchronous(value: string): SqliteSynchronous {
  const level = value.toLowerCase();
  if ((SQLITE_SYNCHRONOUS as readonly string[]).includes(level)) return level as SqliteSynchronous;
  throw new RangeError(`unsupported SQLite synchronous "${value}": use ${SQLITE_SYNCHRONOUS.join(' or ')}`);
}
