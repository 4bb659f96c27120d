import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { Authenticator, ConnectionOptions } from '@nats-io/transport-node';
import { fromSeed } from '@nats-io/nkeys';
import { z } from 'zod';
import { inboxPrefixOf, type NatsIdentity } from './permissions.js';

/**
 * What every NATS connection of a process presents (README, "Security"): the identity's NKey
 * (`IDP_NATS_SEED`, a user seed `SU…`), its own reply inbox prefix `_INBOX_<identity>` (the only
 * inbox its permissions let it read), and TLS when the URL is `tls://` or a CA is given
 * (`IDP_NATS_CA`, and `IDP_NATS_CERT` / `IDP_NATS_KEY` for mutual TLS).
 *
 * Without a seed the connection is anonymous, as the embedded test servers and a development
 * nats-server without authorization expect. Production must set the seed: a nats-server
 * configured by `npm run start:distributed`, compose or k8s refuses anonymous connections.
 */
export type NatsConnectionOptions = Pick<ConnectionOptions, 'authenticator' | 'tls' | 'inboxPrefix'>;

/** The environment of the NATS credentials, parsed once with the rest of a service's config. */
export const NatsCredentialsEnv = z.object({
  IDP_NATS_SEED: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((seed) => seed === undefined || isUserSeed(seed), {
      message: 'IDP_NATS_SEED must be an NKey user seed (SU…), as `npm run start:distributed` generates',
    }),
  IDP_NATS_CA: z.string().min(1).optional(),
  IDP_NATS_CERT: z.string().min(1).optional(),
  IDP_NATS_KEY: z.string().min(1).optional(),
});
export type NatsCredentialsEnv = z.infer<typeof NatsCredentialsEnv>;

function isUserSeed(seed: string): boolean {
  if (!seed.startsWith('SU')) return false;
  try {
    fromSeed(new TextEncoder().encode(seed));
    return true;
  } catch {
    return false;
  }
}

export interface NatsCredentials {
  identity: NatsIdentity;
  seed?: string | undefined;
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

export function credentialsFromEnv(identity: NatsIdentity, env: NatsCredentialsEnv): NatsCredentials {
  return { identity, seed: env.IDP_NATS_SEED, caFile: env.IDP_NATS_CA, certFile: env.IDP_NATS_CERT, keyFile: env.IDP_NATS_KEY };
}

/** The connection options for `url` (only its scheme matters: `tls://` asks for TLS). */
export function natsConnectionOptions(url: string, credentials: NatsCredentials): NatsConnectionOptions {
  const { seed, caFile, certFile, keyFile } = credentials;
  const wantsTls = url.startsWith('tls://') || caFile !== undefined || certFile !== undefined;
  return {
    inboxPrefix: inboxPrefixOf(credentials.identity),
    ...(seed === undefined ? {} : { authenticator: nkeyAuthenticator(seed) }),
    ...(wantsTls
      ? { tls: { ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) } }
      : {}),
  };
}

/** PKCS#8 DER prefix of a raw 32-byte Ed25519 private key (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * What nats.js's `nkeyAuthenticator` does (the NKey's public key and its Ed25519 signature of the
 * server's nonce), with the signature made by node:crypto: nats.js signs in plain JavaScript on
 * every connect, which a loaded machine stretched past the 20 s connect timeout. The key is
 * decoded once, here.
 */
function nkeyAuthenticator(seed: string): Authenticator {
  const pair = fromSeed(new TextEncoder().encode(seed));
  const nkey = pair.getPublicKey();
  const key: KeyObject = createPrivateKey({
    // The raw seed: the KeyPair of @nats-io/nkeys has it (kp.ts), its interface does not say so.
    key: Buffer.concat([ED25519_PKCS8_PREFIX, Buffer.from((pair as unknown as { getRawSeed(): Uint8Array }).getRawSeed())]),
    format: 'der',
    type: 'pkcs8',
  });
  return (nonce?: string) => ({ nkey, sig: nonce ? sign(null, Buffer.from(nonce, 'utf8'), key).toString('base64') : '' });
}
