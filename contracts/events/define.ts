import { z } from 'zod';

/**
 * One event type at one schema version: `{ type, schemaVersion, data }`. Add a version, never
 * rename or change one (DESIGN §4).
 */
export function eventSchema<const T extends string, const V extends number, D extends z.ZodType>(
  type: T,
  schemaVersion: V,
  data: D,
) {
  return z.object({ type: z.literal(type), schemaVersion: z.literal(schemaVersion), data });
}

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'SHA-256 hex');
export const IsoTime = z.string().datetime({ offset: false });

/** AES-256-GCM ciphertext of a JSON value (infra/crypto/envelope.ts). */
export const SealedJson = z.object({
  alg: z.literal('A256GCM'),
  iv: z.string(),
  ct: z.string(),
  tag: z.string(),
});
