import type { SigningAlg } from '../../../../contracts/events/keyring.js';
import type { KeyringState, SigningKeyEntry } from './keyring.js';

/**
 * Where a signing key stands at an instant (DESIGN §7):
 * - `next`: published in JWKS, not signing yet (its `activatesAt` is still ahead);
 * - `active`: the newest activated key of its algorithm, the one that signs;
 * - `retired`: superseded, still in JWKS and still verifying, until every token it signed has
 *   expired (`removesAt` = retirement + the longest lifetime of a token it signs);
 * - `removed`: retired longer than that: out of JWKS;
 * - `revoked`: compromised: out of JWKS at once, every token it signed refused.
 */
export type KeyLifecycle = 'next' | 'active' | 'retired' | 'removed' | 'revoked';

export interface KeyStatus {
  key: SigningKeyEntry;
  state: KeyLifecycle;
  /** When it began signing (null: a v1 key, active from its generation). */
  activatesAt: string | null;
  /** When a newer key of its algorithm began signing instead; null while it has not. */
  retiredAt: string | null;
  /** When it leaves JWKS for having retired; null while it has not retired. */
  removesAt: string | null;
  revokedAt: string | null;
}

const activationTime = (key: SigningKeyEntry): number => (key.activatesAt === null ? -Infinity : Date.parse(key.activatesAt));

/** The order in which keys of one algorithm take over: by activation time, then by generation. */
const signsAfter = (a: SigningKeyEntry, b: SigningKeyEntry): boolean =>
  activationTime(a) > activationTime(b) || (activationTime(a) === activationTime(b) && a.generation > b.generation);

const hasActivated = (key: SigningKeyEntry, now: number): boolean => activationTime(key) <= now;

/** A revoked key that was revoked before its activation never signed anything. */
const everSigned = (key: SigningKeyEntry, now: number): boolean =>
  hasActivated(key, now) && (key.revokedAt === null || Date.parse(key.revokedAt) >= activationTime(key));

/** The key that signs for `alg` at `now`: the last to activate of those not revoked. */
export function activeKey(state: KeyringState, alg: SigningAlg, now: Date): SigningKeyEntry | undefined {
  let active: SigningKeyEntry | undefined;
  for (const key of state.keys) {
    if (key.alg !== alg || key.revokedAt !== null || !hasActivated(key, now.getTime())) continue;
    if (!active || signsAfter(key, active)) active = key;
  }
  return active;
}

/** A key published but not signing yet, for `alg` (at most one: a rotation waits for it). */
export function pendingKey(state: KeyringState, alg: SigningAlg, now: Date): SigningKeyEntry | undefined {
  return state.keys.find((key) => key.alg === alg && key.revokedAt === null && !hasActivated(key, now.getTime()));
}

/**
 * The status of every key at `now`. `retentionSeconds`: how long a retired key keeps verifying,
 * the longest lifetime of a token the keyring signs (access token, ID token).
 */
export function keyStatuses(state: KeyringState, now: Date, retentionSeconds: number): KeyStatus[] {
  const at = now.getTime();
  const active = new Set(state.keys.map((key) => activeKey(state, key.alg, now)?.kid));
  return state.keys.map((key): KeyStatus => {
    const base = { key, activatesAt: key.activatesAt, revokedAt: key.revokedAt, retiredAt: null, removesAt: null };
    if (key.revokedAt !== null) return { ...base, state: 'revoked' };
    if (!hasActivated(key, at)) return { ...base, state: 'next' };
    if (active.has(key.kid)) return { ...base, state: 'active' };
    // Activated, not revoked, not the active one: a key that activated after it signs instead.
    const retiredMs = retirement(state, key, at) ?? at;
    const removesMs = retiredMs + retentionSeconds * 1000;
    return {
      ...base,
      state: at >= removesMs ? 'removed' : 'retired',
      retiredAt: new Date(retiredMs).toISOString(),
      removesAt: new Date(removesMs).toISOString(),
    };
  });
}

/** When a later key of the same algorithm began signing in this one's place, if one has. */
function retirement(state: KeyringState, key: SigningKeyEntry, now: number): number | undefined {
  if (!hasActivated(key, now)) return undefined;
  let earliest: number | undefined;
  for (const later of state.keys) {
    if (later.alg !== key.alg || !signsAfter(later, key) || !everSigned(later, now)) continue;
    const time = activationTime(later);
    if (earliest === undefined || time < earliest) earliest = time;
  }
  return earliest;
}

/** What JWKS lists at `now`: next, active and retired keys; never a removed or revoked one. */
export function publishedKeys(state: KeyringState, now: Date, retentionSeconds: number): SigningKeyEntry[] {
  return keyStatuses(state, now, retentionSeconds)
    .filter((status) => status.state === 'next' || status.state === 'active' || status.state === 'retired')
    .map((status) => status.key);
}

/** A key whose signatures are still believed: any key but a revoked one (expiry is the token's own). */
export function verifyingKey(state: KeyringState, kid: string): SigningKeyEntry | undefined {
  return state.keys.find((key) => key.kid === kid && key.revokedAt === null);
}
