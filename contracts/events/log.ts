import { z } from 'zod';
import { eventSchema, IsoTime, Sha256Hex } from './define.js';

/**
 * The sealed checkpoints of the log (DESIGN §4, tamper evidence), on the stream `log-<tenant>`,
 * written by the token-issuer's sealer (services/token-issuer/app/log-sealer.ts).
 *
 * The running hash of `$all`: H0 is a fixed, domain-separated value, and after each event in
 * position order Hn = SHA-256(H(n-1) || event.hash) (services/shared/integrity/running-hash.ts).
 * A seal states "the running hash after every event up to and including `upToPosition` is
 * `runningHash`, over `eventCount` events", chained to the seal before it, and signs that
 * statement with Ed25519 (the key derived from the KEK, so every replica signs with the same
 * key; its public half is in every seal and in the anchor file kept outside the store). The seal
 * itself stands after `upToPosition` and is covered by the next seal.
 */
const Base64Url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'base64url');

export const LogCheckpointSealedV1 = eventSchema(
  'log.checkpoint_sealed',
  1,
  z.object({
    /** The `$all` position of the last event the running hash covers. */
    upToPosition: z.number().int().positive(),
    /** The running hash after that event (hex). */
    runningHash: Sha256Hex,
    /** How many events the running hash covers, from the start of the log (archived ones included). */
    eventCount: z.number().int().positive(),
    /** The seal before this one on the same stream (what it stated), or null for the first seal. */
    previousSeal: z.object({ upToPosition: z.number().int().positive(), runningHash: Sha256Hex }).nullable(),
    sealedAt: IsoTime,
    /** base64url SHA-256 of the raw public key, shortened: names the key in reports. */
    keyId: z.string().min(1).max(64),
    /** The Ed25519 public key, raw 32 bytes, base64url (a JWK's `x`). */
    publicKey: Base64Url,
    /** Ed25519 over the canonical statement (running-hash.ts `sealStatement`), base64url. */
    signature: Base64Url,
  }),
);

/**
 * The beginning of the log was archived (`idp archive`, README "Verify and archive"): the ended
 * business that the seal at `sealPosition` covers (every event of it at or before
 * `upToPosition`, that seal's position) was moved into an archive file and deleted from the
 * log, in the same SQLite transaction that appends this event. Every other event up to
 * `upToPosition` stays (users, clients, the keyring, consents, seals, and whatever still lives).
 *
 * From here on the log can be checked without what was archived: the running hash starts from
 * the seal's statement, and what stayed before the cut is held to `kept` (its count and its
 * digest, services/shared/integrity/archive-digest.ts), so a kept event deleted later is caught.
 * This event is itself in the running hash, so the next seal vouches for it.
 */
const SubsetDigest = z.object({ events: z.number().int().nonnegative(), digest: Sha256Hex });

export const LogArchivedV1 = eventSchema(
  'log.archived',
  1,
  z.object({
    /** The `$all` position of the seal that vouches for the cut. */
    sealPosition: z.number().int().positive(),
    /** That seal's `upToPosition`: nothing after it was archived. */
    upToPosition: z.number().int().positive(),
    /** Business that ended before this time was archived (the command's clock). */
    endedBefore: IsoTime,
    /** What was moved out: its events in position order, and its streams by aggregate. */
    archived: SubsetDigest.extend({ streams: z.record(z.string(), z.number().int().nonnegative()) }),
    /** What stayed at or before `upToPosition`, in position order. */
    kept: SubsetDigest,
    /** SHA-256 (hex) of the archive file as written. */
    fileSha256: Sha256Hex,
  }),
);

export const LogEvent = z.discriminatedUnion('type', [LogCheckpointSealedV1, LogArchivedV1]);
export type LogEvent = z.infer<typeof LogEvent>;
export type LogCheckpointSealed = z.infer<typeof LogCheckpointSealedV1>['data'];
export type LogArchived = z.infer<typeof LogArchivedV1>['data'];
