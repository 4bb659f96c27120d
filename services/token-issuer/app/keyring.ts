import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { KeyringEvent, type SigningAlg } from '../../../contracts/events/keyring.js';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import { streams } from '../../../contracts/streams.js';
import { openJson, sealJson } from '../../../infra/crypto/envelope.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import { handleCommand, loadState } from '../../shared/app/command-handler.js';
import { activeKey, keyringDecider, type KeyringState, type SigningKey } from '../domain/keyring/keyring.js';

/** ID tokens are RS256 (OIDC's default); access tokens ES256 (DESIGN §7). */
export const KEY_ALGS: SigningAlg[] = ['RS256', 'ES256'];

export interface Signer {
  kid: string;
  alg: SigningAlg;
  key: CryptoKey;
}

interface LoadedKeyring {
  state: KeyringState;
  signers: Map<SigningAlg, Signer>;
  publicKeys: Map<string, { alg: SigningAlg; key: CryptoKey }>;
}

/**
 * The tenant's signing keys: generated once into the `keyring` stream (private halves sealed
 * with a KEK-derived key the log never sees), loaded and unsealed into memory for signing.
 */
export class Keyring {
  private readonly loaded = new Map<string, Promise<LoadedKeyring>>();

  constructor(
    private readonly store: EventStore,
    /** deriveKey(kek, 'signing-keys') */
    private readonly sealingKey: Buffer,
  ) {}

  /** Loads the tenant's keyring, generating the missing keys first. Cached per tenant. */
  forTenant(ctx: RequestContext): Promise<LoadedKeyring> {
    let entry = this.loaded.get(ctx.tenant);
    if (!entry) {
      entry = this.load(ctx);
      entry.catch(() => this.loaded.delete(ctx.tenant));
      this.loaded.set(ctx.tenant, entry);
    }
    return entry;
  }

  async signer(ctx: RequestContext, alg: SigningAlg): Promise<Signer> {
    const signer = (await this.forTenant(ctx)).signers.get(alg);
    if (!signer) throw new Error(`no ${alg} signing key for tenant ${ctx.tenant}`);
    return signer;
  }

  async publicKey(ctx: RequestContext, kid: string): Promise<{ alg: SigningAlg; key: CryptoKey } | undefined> {
    return (await this.forTenant(ctx)).publicKeys.get(kid);
  }

  async jwks(ctx: RequestContext): Promise<JWK[]> {
    const { state } = await this.forTenant(ctx);
    return state.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' }));
  }

  private async load(ctx: RequestContext): Promise<LoadedKeyring> {
    const stream = streams.keyring(ctx.tenant);
    let state = await loadState(this.store, stream, keyringDecider, KeyringEvent);
    for (const alg of KEY_ALGS) {
      if (activeKey(state, alg)) continue;
      await handleCommand(
        { store: this.store, service: 'token-issuer' },
        {
          streamName: stream,
          decider: keyringDecider,
          schema: KeyringEvent,
          command: { type: 'ensure_signing_key', candidate: await this.generate(alg) },
          ctx: { ...ctx, actor: { kind: 'system', id: 'token-issuer' } },
        },
      );
    }
    state = await loadState(this.store, stream, keyringDecider, KeyringEvent);

    const signers = new Map<SigningAlg, Signer>();
    const publicKeys = new Map<string, { alg: SigningAlg; key: CryptoKey }>();
    for (const key of state.keys) {
      publicKeys.set(key.kid, { alg: key.alg, key: (await importJWK(key.publicJwk as JWK, key.alg)) as CryptoKey });
    }
    for (const alg of KEY_ALGS) {
      const key = activeKey(state, alg);
      if (!key) throw new Error(`keyring of ${ctx.tenant} has no ${alg} key`);
      const privateJwk = openJson<JWK>(this.sealingKey, key.privateJwk, key.kid);
      signers.set(alg, { kid: key.kid, alg, key: (await importJWK(privateJwk, alg)) as CryptoKey });
    }
    return { state, signers, publicKeys };
  }

  private async generate(alg: SigningAlg): Promise<SigningKey> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    return { kid, alg, publicJwk: { ...publicJwk }, privateJwk: sealJson(this.sealingKey, privateJwk, kid) };
  }
}
