import { z } from 'zod';
import { eventSchema, IsoTime, SealedJson } from './define.js';

export const SigningAlg = z.enum(['RS256', 'ES256']);
export type SigningAlg = z.infer<typeof SigningAlg>;

export const PublicJwk = z.record(z.string(), z.unknown());

const GeneratedKey = {
  kid: z.string(),
  alg: SigningAlg,
  publicJwk: PublicJwk,
  /** The private JWK sealed with a key derived from the KEK, which the log never sees. */
  privateJwk: SealedJson,
};

/** A signing key, active from the event's time (before key rotation existed). */
export const SigningKeyGeneratedV1 = eventSchema('signing_key.generated', 1, z.object(GeneratedKey));

/**
 * A signing key, published in JWKS at once and signing from `activatesAt` (DESIGN §7: every
 * replica and relying party can know the next key before any token carries its kid). When it
 * activates, the previous key of its algorithm retires; that one stays in JWKS until every
 * token it signed has expired.
 */
export const SigningKeyGeneratedV2 = eventSchema('signing_key.generated', 2, z.object({ ...GeneratedKey, activatesAt: IsoTime }));

/** A compromised key: out of JWKS at once, and every token it signed is refused. */
export const SigningKeyRevokedV1 = eventSchema(
  'signing_key.revoked',
  1,
  z.object({ kid: z.string(), revokedAt: IsoTime, reason: z.literal('compromised') }),
);

export const KeyringEvent = z.discriminatedUnion('type', [
  z.discriminatedUnion('schemaVersion', [SigningKeyGeneratedV1, SigningKeyGeneratedV2]),
  SigningKeyRevokedV1,
]);
export type KeyringEvent = z.infer<typeof KeyringEvent>;
