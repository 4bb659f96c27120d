import type { z } from 'zod';
import type { SealedJson } from '../../../../contracts/events/define.js';
import type { KeyringEvent, SigningAlg } from '../../../../contracts/events/keyring.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { accept, reject, type Decider, type Decision } from '../../../shared/domain/decider.js';
import { activeKey, pendingKey } from './lifecycle.js';

/** A freshly generated key pair, as the caller generates it (generating is not pure). */
export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: Record<string, unknown>;
  privateJwk: z.infer<typeof SealedJson>;
}

/** A key of the keyring as its events made it. */
export interface SigningKeyEntry extends SigningKey {
  /** Order of generation in the stream (0, 1, …): breaks ties between equal activation times. */
  generation: number;
  /** When it begins signing; null for a v1 key (active from its generation on). */
  activatesAt: string | null;
  revokedAt: string | null;
}

export interface KeyringState {
  keys: SigningKeyEntry[];
}

/** Ensures each algorithm has a key to sign with (the first start): active at once. */
export interface EnsureSigningKeyCommand {
  type: 'ensure_signing_key';
  candidate: SigningKey;
  now: Date;
}

/**
 * Publishes a next key per algorithm that signs from `activatesAt` (now + the JWKS propagation
 * delay), so that every relying party and replica can know it before any token carries its kid.
 */
export interface RotateSigningKeysCommand {
  type: 'rotate_signing_keys';
  candidates: SigningKey[];
  now: Date;
  activatesAt: Date;
}

/**
 * A compromised key: out of JWKS and refused at once. If it was the active key of its
 * algorithm, `replacement` (of that algorithm) signs from now on, without the propagation delay:
 * service continuity goes before propagation.
 */
export interface RevokeSigningKeyCommand {
  type: 'revoke_signing_key';
  kid: string;
  now: Date;
  replacement?: SigningKey | undefined;
}

export type KeyringCommand = EnsureSigningKeyCommand | RotateSigningKeysCommand | RevokeSigningKeyCommand;

const refused = (description: string) => new OAuthError('invalid_request', description, { mayRedirect: false });

export function decideKeyring(command: KeyringCommand, state: KeyringState): Decision<KeyringEvent> {
  switch (command.type) {
    case 'ensure_signing_key': {
      const { alg } = command.candidate;
      if (activeKey(state, alg, command.now) || pendingKey(state, alg, command.now)) return accept();
      return accept(generated(command.candidate, command.now));
    }
    case 'rotate_signing_keys': {
      if (command.candidates.length === 0) return reject(refused('nothing to rotate'));
      if (command.activatesAt.getTime() < command.now.getTime()) return reject(refused('a next key cannot activate in the past'));
      const algs = new Set<SigningAlg>();
      for (const candidate of command.candidates) {
        if (algs.has(candidate.alg)) return reject(refused(`one next ${candidate.alg} key at a time`));
        algs.add(candidate.alg);
        if (state.keys.some((key) => key.kid === candidate.kid)) return reject(refused(`kid ${candidate.kid} exists already`));
        // One next key per algorithm: a second rotation before the first activated would retire
        // a key that never signed, and leave relying parties one key behind.
        const pending = pendingKey(state, candidate.alg, command.now);
        if (pending) {
          return reject(refused(`the next ${candidate.alg} key ${pending.kid} is pending until ${pending.activatesAt}; rotate again after it activates`));
        }
      }
      return accept(...command.candidates.map((candidate) => generated(candidate, command.activatesAt)));
    }
    case 'revoke_signing_key': {
      const key = state.keys.find((k) => k.kid === command.kid);
      if (!key) return reject(refused(`no signing key has kid ${command.kid}`));
      if (key.revokedAt !== null) return reject(refused(`the signing key ${command.kid} was revoked at ${key.revokedAt}`));
      const revoked: KeyringEvent = {
        type: 'signing_key.revoked',
        schemaVersion: 1,
        data: { kid: key.kid, revokedAt: command.now.toISOString(), reason: 'compromised' },
      };
      if (activeKey(state, key.alg, command.now)?.kid !== key.kid) return accept(revoked);
      const { replacement } = command;
      if (!replacement || replacement.alg !== key.alg || state.keys.some((k) => k.kid === replacement.kid)) {
        return reject(refused(`revoking the active ${key.alg} key needs a new ${key.alg} key to sign with`));
      }
      return accept(revoked, generated(replacement, command.now));
    }
  }
}

function generated(candidate: SigningKey, activatesAt: Date): KeyringEvent {
  const { kid, alg, publicJwk, privateJwk } = candidate;
  return { type: 'signing_key.generated', schemaVersion: 2, data: { kid, alg, publicJwk, privateJwk, activatesAt: activatesAt.toISOString() } };
}

export function evolveKeyring(state: KeyringState, event: KeyringEvent): KeyringState {
  switch (event.type) {
    case 'signing_key.generated': {
      const { kid, alg, publicJwk, privateJwk } = event.data;
      const activatesAt = event.schemaVersion === 2 ? event.data.activatesAt : null;
      return { keys: [...state.keys, { kid, alg, publicJwk, privateJwk, generation: state.keys.length, activatesAt, revokedAt: null }] };
    }
    case 'signing_key.revoked': {
      const { kid, revokedAt } = event.data;
      return { keys: state.keys.map((key) => (key.kid === kid && key.revokedAt === null ? { ...key, revokedAt } : key)) };
    }
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}

export const keyringDecider: Decider<KeyringState, KeyringCommand, KeyringEvent> = {
  initialState: () => ({ keys: [] }),
  evolve: evolveKeyring,
  decide: decideKeyring,
};
