import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { KeyringEvent, type SigningAlg } from '../../../contracts/events/keyring.js';
import { EventMetadata, type RequestContext } from '../../../contracts/events/metadata.js';
import type { SigningKeyView } from '../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../contracts/oauth-error.js';
import { streams } from '../../../contracts/streams.js';
import { openJson, sealJson } from '../../../infra/crypto/envelope.js';
import type { EventStore, RecordedEvent } from '../../../infra/event-store/port.js';
import { handleCommand, parseRecorded, type HandledCommand } from '../../shared/app/command-handler.js';
import { keyringDecider, type KeyringCommand, type KeyringState, type SigningKey } from '../domain/keyring/keyring.js';
import { activeKey, keyStatuses, publishedKeys, verifyingKey } from '../domain/keyring/lifecycle.js';

/** ID tokens are RS256 (OIDC's default); access tokens ES256 (DESIGN §7). */
export const KEY_ALGS: SigningAlg[] = ['RS256', 'ES256'];

export interface Signer {
  kid: string;
  alg: SigningAlg;
  key: CryptoKey;
}

export interface KeyringPolicy {
  /** How long a next key is published before it signs: the JWKS max-age plus a margin. */
  activationDelaySeconds: number;
  /** How long a retired key keeps verifying: the longest lifetime of a token it signs. */
  retentionSeconds: number;
  /** How stale this replica's view of the keyring may be before a use reads the stream again. */
  refreshIntervalMs: number;
}

/** What one tenant's keyring stream said when it was last read. */
interface LoadedKeyring {
  state: KeyringState;
  /** Events read: the stream changed when it has more. */
  length: number;
  /** kid → when its `signing_key.generated` was appended (metadata time). */
  createdAt: Map<string, string>;
  publicKeys: Map<string, CryptoKey>;
  privateKeys: Map<string, Promise<CryptoKey>>;
}

interface CacheEntry {
  loaded: Promise<LoadedKeyring>;
  readAt: number;
}

/**
 * The tenant's signing keys (DESIGN §7), from the `keyring` stream (private halves sealed with a
 * KEK-derived key the log never sees). Every replica follows the stream: a use reads it again
 * when this replica's view is older than `refreshIntervalMs`, so that a rotation or a revocation
 * appended by any process (another replica, `idp keys`) reaches every token-issuer within about
 * a second, and a revoked key stops signing and verifying at the first use after that read.
 * Which key signs is decided at each use from the clock: a next key starts signing at its
 * `activatesAt` on every replica without any further read.
 */
export class Keyring {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly store: EventStore,
    /** deriveKey(kek, 'signing-keys') */
    private readonly sealingKey: Buffer,
    private readonly policy: KeyringPolicy,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * The tenant's keyring as of at most `refreshIntervalMs` ago; the first use generates the
   * missing keys. A failed read is not cached: the next use reads again.
   */
  async forTenant(ctx: RequestContext): Promise<LoadedKeyring> {
    const now = Date.now();
    const entry = this.cache.get(ctx.tenant);
    if (entry && now - entry.readAt < this.policy.refreshIntervalMs) return entry.loaded;
    const previous = entry?.loaded.catch(() => undefined);
    const loaded = (async () => this.read(ctx, await previous))();
    this.cache.set(ctx.tenant, { loaded, readAt: now });
    loaded.catch(() => {
      if (this.cache.get(ctx.tenant)?.loaded === loaded) this.cache.delete(ctx.tenant);
    });
    return loaded;
  }

  /** The key that signs for `alg` now; refused while the keyring cannot be read. */
  async signer(ctx: RequestContext, alg: SigningAlg): Promise<Signer> {
    const loaded = await this.forTenant(ctx);
    const key = activeKey(loaded.state, alg, this.clock());
    if (!key) throw new Error(`no ${alg} signing key for tenant ${ctx.tenant}`);
    let privateKey = loaded.privateKeys.get(key.kid);
    if (!privateKey) {
      privateKey = importJWK(openJson<JWK>(this.sealingKey, key.privateJwk, key.kid), alg) as Promise<CryptoKey>;
      loaded.privateKeys.set(key.kid, privateKey);
    }
    return { kid: key.kid, alg, key: await privateKey };
  }

  /** The public key of `kid` if its signatures are believed: any key of ours but a revoked one. */
  async publicKey(ctx: RequestContext, kid: string): Promise<{ alg: SigningAlg; key: CryptoKey } | undefined> {
    const loaded = await this.forTenant(ctx);
    const key = verifyingKey(loaded.state, kid);
    const publicKey = loaded.publicKeys.get(kid);
    return key && publicKey ? { alg: key.alg, key: publicKey } : undefined;
  }

  /** RFC 7517: the next, active and retired keys; never a removed or revoked one. */
  async jwks(ctx: RequestContext): Promise<JWK[]> {
    const { state } = await this.forTenant(ctx);
    return publishedKeys(state, this.clock(), this.policy.retentionSeconds).map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' }));
  }

  /** Every key of the tenant and where it stands now, read from the stream itself. */
  async list(ctx: RequestContext): Promise<SigningKeyView[]> {
    return this.views(await this.forceRead(ctx));
  }

  /** A next key per algorithm (`alg`, or both), signing from now + the activation delay. */
  async rotate(ctx: RequestContext, alg?: SigningAlg): Promise<{ generated: SigningKeyView[]; keys: SigningKeyView[] }> {
    const candidates = await Promise.all((alg ? [alg] : KEY_ALGS).map((a) => this.generate(a)));
    const handled = await this.decide(ctx, async () => {
      // The delay counts from the decision, not from the (slow) generation of the key pairs.
      const now = this.clock();
      return { type: 'rotate_signing_keys', candidates, now, activatesAt: new Date(now.getTime() + this.policy.activationDelaySeconds * 1000) };
    });
    if (handled.decision.rejection) throw handled.decision.rejection;
    const keys = this.views(await this.forceRead(ctx));
    return { generated: keys.filter((k) => candidates.some((c) => c.kid === k.kid)), keys };
  }

  /** Revokes a compromised key; an active one is replaced by a new key that signs at once. */
  async revoke(
    ctx: RequestContext,
    kid: string,
  ): Promise<{ found: false } | { found: true; revoked: SigningKeyView; replacement: SigningKeyView | null; keys: SigningKeyView[] }> {
    let replacement: SigningKey | undefined;
    const handled = await this.decide(ctx, async (state) => {
      const now = this.clock();
      const key = state.keys.find((k) => k.kid === kid);
      // Only the active key needs a successor; it is generated once, and kept across retries.
      if (key && activeKey(state, key.alg, now)?.kid === kid) replacement ??= await this.generate(key.alg);
      return { type: 'revoke_signing_key', kid, now, replacement };
    });
    if (!handled.state.keys.some((k) => k.kid === kid)) return { found: false };
    if (handled.decision.rejection) throw handled.decision.rejection;
    const keys = this.views(await this.forceRead(ctx));
    const replaced = handled.decision.events.find((e) => e.type === 'signing_key.generated');
    return {
      found: true,
      revoked: keys.find((k) => k.kid === kid)!,
      replacement: replaced ? (keys.find((k) => k.kid === replaced.data.kid) ?? null) : null,
      keys,
    };
  }

  /** Reads the stream now (after this process's own write, or for an administrator's listing). */
  private forceRead(ctx: RequestContext): Promise<LoadedKeyring> {
    const entry = this.cache.get(ctx.tenant);
    if (entry) entry.readAt = -Infinity;
    return this.forTenant(ctx);
  }

  private decide(ctx: RequestContext, command: KeyringCommand | ((state: KeyringState) => Promise<KeyringCommand>)): Promise<HandledCommand<KeyringState, KeyringEvent>> {
    return handleCommand(
      { store: this.store, service: 'token-issuer', clock: this.clock },
      { streamName: streams.keyring(ctx.tenant), decider: keyringDecider, schema: KeyringEvent, command, ctx },
    );
  }

  private async read(ctx: RequestContext, previous: LoadedKeyring | undefined): Promise<LoadedKeyring> {
    let events = await this.readStream(ctx);
    if (previous && events.length === previous.length) return previous;
    let state = fold(events);
    const missing = KEY_ALGS.filter((alg) => !state.keys.some((k) => k.alg === alg && k.revokedAt === null));
    if (missing.length > 0) {
      // First start of the tenant: a key per algorithm, signing at once (nobody relies on JWKS yet).
      const system = { ...ctx, actor: { kind: 'system' as const, id: 'token-issuer' } };
      for (const alg of missing) {
        const candidate = await this.generate(alg);
        const handled = await this.decide(system, async () => ({ type: 'ensure_signing_key', candidate, now: this.clock() }));
        if (handled.decision.rejection) throw handled.decision.rejection;
      }
      events = await this.readStream(ctx);
      state = fold(events);
    }
    const createdAt = new Map<string, string>();
    for (const event of events) {
      if (event.type !== 'signing_key.generated') continue;
      const data = event.data as { kid: string };
      createdAt.set(data.kid, EventMetadata.shape.time.parse((event.metadata as { time?: unknown }).time));
    }
    const publicKeys = new Map<string, CryptoKey>();
    for (const key of state.keys) {
      publicKeys.set(key.kid, previous?.publicKeys.get(key.kid) ?? ((await importJWK(key.publicJwk as JWK, key.alg)) as CryptoKey));
    }
    return { state, length: events.length, createdAt, publicKeys, privateKeys: previous?.privateKeys ?? new Map() };
  }

  private async readStream(ctx: RequestContext): Promise<RecordedEvent[]> {
    try {
      return (await this.store.readStream(streams.keyring(ctx.tenant))).events;
    } catch (error) {
      throw new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable', {
        mayRedirect: false,
        detail: `reading the keyring: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }

  private views(loaded: LoadedKeyring): SigningKeyView[] {
    return keyStatuses(loaded.state, this.clock(), this.policy.retentionSeconds).map((status) => {
      const createdAt = loaded.createdAt.get(status.key.kid) ?? '';
      return {
        kid: status.key.kid,
        alg: status.key.alg,
        state: status.state,
        createdAt,
        activatesAt: status.activatesAt ?? createdAt,
        retiredAt: status.retiredAt,
        removesAt: status.removesAt,
        revokedAt: status.revokedAt,
      };
    });
  }

  private async generate(alg: SigningAlg): Promise<SigningKey> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    return { kid, alg, publicJwk: { ...publicJwk }, privateJwk: sealJson(this.sealingKey, privateJwk, kid) };
  }
}

function fold(events: RecordedEvent[]): KeyringState {
  return events.reduce((state, recorded) => keyringDecider.evolve(state, parseRecorded(KeyringEvent, recorded)), keyringDecider.initialState());
}

