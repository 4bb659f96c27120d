import { z } from 'zod';
import { eventSchema, SealedJson } from './define.js';

export const SigningAlg = z.enum(['RS256', 'ES256']);
export type SigningAlg = z.infer<typeof SigningAlg>;

export const PublicJwk = z.record(z.string(), z.unknown());

export const SigningKeyGeneratedV1 = eventSchema(
  'signing_key.generated',
  1,
  z.object({
    kid: z.string(),
    alg: SigningAlg,
    publicJwk: PublicJwk,
    /** The private JWK sealed with a key derived from the KEK, which the log never sees. */
    privateJwk: SealedJson,
  }),
);

export const KeyringEvent = z.discriminatedUnion('type', [SigningKeyGeneratedV1]);
export type KeyringEvent = z.infer<typeof KeyringEvent>;
