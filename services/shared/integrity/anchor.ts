import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { IsoTime, Sha256Hex } from '../../../contracts/events/define.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../../../infra/files/private-files.js';

/**
 * The external anchor (DESIGN §4): the latest seal, kept outside the store, so that a log cut
 * short after it (or rewritten whole) no longer reaches it. `idp verify --anchor FILE` checks
 * that the event at `sealPosition` is still there with `sealEventHash`, that the running hash
 * at `upToPosition` is still `runningHash`, and pins `publicKey`. Copy it off the machine (a
 * WORM bucket, another host, a transparency log) for it to mean anything against someone who
 * can rewrite the data directory.
 */
export const LogAnchor = z.object({
  kind: z.literal('idp-log-anchor'),
  version: z.literal(1),
  tenant: z.string(),
  /** `$all` position of the seal event itself. */
  sealPosition: z.number().int().positive(),
  /** The stored hash of the seal event. */
  sealEventHash: Sha256Hex,
  /** What the seal states. */
  upToPosition: z.number().int().positive(),
  runningHash: Sha256Hex,
  eventCount: z.number().int().positive(),
  previousSeal: z.object({ upToPosition: z.number().int().positive(), runningHash: Sha256Hex }).nullable(),
  sealedAt: IsoTime,
  keyId: z.string(),
  publicKey: z.string(),
  signature: z.string(),
  /** When this file was written. */
  writtenAt: IsoTime,
});
export type LogAnchor = z.infer<typeof LogAnchor>;

/** Writes the anchor whole or not at all (a temporary file renamed into place), mode 0600. */
export function writeAnchorFile(path: string, anchor: LogAnchor): void {
  ensurePrivateDir(dirname(path));
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, `${JSON.stringify(LogAnchor.parse(anchor), null, 2)}\n`, { flag: 'wx', mode: PRIVATE_FILE_MODE });
  try {
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    throw error;
  }
}

/** Reads and checks an anchor file; throws with a message that names the file. */
export function readAnchorFile(path: string): LogAnchor {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the anchor file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`the anchor file ${path} is not JSON`);
  }
  const parsed = LogAnchor.safeParse(json);
  if (!parsed.success) throw new Error(`the anchor file ${path} is not a log anchor: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}
