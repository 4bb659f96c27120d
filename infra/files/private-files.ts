import fs from 'node:fs';
import path from 'node:path';

/** Owner read/write only: what every data file of the server is created with. */
export const PRIVATE_FILE_MODE = 0o600;
/** Owner only: what a data directory the server creates gets. */
export const PRIVATE_DIR_MODE = 0o700;

/** Told when a file that existed with group/other bits was tightened to 0600. */
export type TightenedListener = (tightened: { path: string; fromMode: string }) => void;

// POSIX permission bits mean nothing on Windows.
const POSIX = process.platform !== 'win32';

/**
 * Creates `dir` and its missing parents with mode 0700, whatever the umask. A directory that
 * already exists is left as it is: it may be shared (/tmp, a home directory), and the files in it
 * are private on their own.
 */
export function ensurePrivateDir(dir: string): void {
  const first = fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined || !POSIX) return;
  // mkdir's mode is masked by the umask: set it exactly on each directory this call created.
  let created = path.resolve(dir);
  const top = path.resolve(first);
  for (;;) {
    fs.chmodSync(created, PRIVATE_DIR_MODE);
    if (created === top || path.dirname(created) === created) break;
    created = path.dirname(created);
  }
}

/**
 * Makes sure `file` exists with mode 0600 before a library (SQLite) opens it: a missing file is
 * created empty with 0600 (umask-independent), an existing one loses any group/other bits and
 * `onTightened` is told. SQLite gives a database's -wal and -shm files the database file's mode,
 * so they are private too; existing ones are tightened here as well.
 */
export function preparePrivateFile(file: string, onTightened?: TightenedListener, companions: string[] = []): void {
  ensurePrivateDir(path.dirname(file));
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, PRIVATE_FILE_MODE);
  try {
    tighten(fd, file, onTightened);
  } finally {
    fs.closeSync(fd);
  }
  for (const companion of companions) {
    let companionFd: number;
    try {
      companionFd = fs.openSync(companion, fs.constants.O_RDONLY);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    try {
      tighten(companionFd, companion, onTightened);
    } finally {
      fs.closeSync(companionFd);
    }
  }
}

/** The SQLite database at `file` and the -wal/-shm files it keeps beside it, all 0600. */
export function preparePrivateSqliteFile(file: string, onTightened?: TightenedListener): void {
  preparePrivateFile(file, onTightened, [`${file}-wal`, `${file}-shm`, `${file}-journal`]);
}

function tighten(fd: number, file: string, onTightened: TightenedListener | undefined): void {
  if (!POSIX) return;
  const mode = fs.fstatSync(fd).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  fs.fchmodSync(fd, mode & 0o700);
  // A file this call just created (O_CREAT with 0600) never has group/other bits: only an
  // existing file's mode is worth telling about.
  onTightened?.({ path: file, fromMode: mode.toString(8).padStart(4, '0') });
}

/** A TightenedListener that logs at warn level. */
export function logTightened(logger: { warn(obj: object, msg: string): void }): TightenedListener {
  return ({ path: file, fromMode }) =>
    logger.warn({ file, fromMode, toMode: '0600' }, 'data file was readable by group/others: tightened to 0600');
}
