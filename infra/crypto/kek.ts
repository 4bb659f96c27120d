import { hkdfSync, randomBytes } from 'node:crypto';
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePrivateDir } from '../files/private-files.js';

/**
 * The key-encryption key (KEK): 32 bytes the event log never sees. Every purpose gets its own
 * key derived from it (deriveKey), so no two purposes ever share a key.
 */
export const KEK_BYTES = 32;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function parseKek(base64url: string): Buffer {
  const text = base64url.trim();
  const kek = BASE64URL.test(text) ? Buffer.from(text, 'base64url') : Buffer.alloc(0);
  if (kek.length !== KEK_BYTES) {
    throw new Error(`KEK must be exactly ${KEK_BYTES} bytes encoded as base64url (got ${kek.length} bytes)`);
  }
  return kek;
}

/**
 * Reads the KEK file, creating it (mode 0600) with a fresh random KEK if it does not exist.
 * The new file is written under a temporary name with flag 'wx' and then hard-linked into place:
 * link fails with EEXIST instead of overwriting, and another process can never read the file
 * half-written.
 */
export function loadOrCreateKekFile(path: string): Buffer {
  const existing = readKekFile(path);
  if (existing) return existing;

  ensurePrivateDir(dirname(path));
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, `${randomBytes(KEK_BYTES).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  try {
    linkSync(temp, path);
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  } finally {
    unlinkSync(temp);
  }
  const kek = readKekFile(path);
  if (!kek) throw new Error(`KEK file ${path} vanished while being created`);
  return kek;
}

/**
 * Reads an existing KEK file, and never creates one: what a tool that works on an existing log
 * (the `idp` command line) needs, since a fresh KEK would seal what no server could open.
 */
export function loadKekFile(path: string): Buffer {
  const kek = readKekFile(path);
  if (!kek) throw new Error(`no KEK file at ${path}: start the server once with this data directory, or set IDP_KEK`);
  return kek;
}

function readKekFile(path: string): Buffer | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  // POSIX permission bits mean nothing on Windows.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(
      `KEK file ${path} is readable by group/others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    );
  }
  try {
    return parseKek(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`KEK file ${path}: ${(err as Error).message}`);
  }
}

/** HKDF-SHA256: a 32-byte key for one purpose ('signing-keys', 'data-keys', 'authz-cookie'...). */
export function deriveKey(kek: Buffer, label: string): Buffer {
  if (kek.length !== KEK_BYTES) throw new Error(`KEK must be exactly ${KEK_BYTES} bytes (got ${kek.length})`);
  if (label.length === 0) throw new Error('deriveKey: label must not be empty');
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), label, 32));
}

// Not `instanceof Error`: errors from node:fs may come from another realm (e.g. under Jest).
function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
