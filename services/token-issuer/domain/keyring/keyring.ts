import type { z } from 'zod';
import type { SealedJson } from '../../../../contracts/events/define.js';
import type { KeyringEvent, SigningAlg } from '../../../../contracts/events/keyring.js';
import { accept, type Decider, type Decision } from '../../../shared/domain/decider.js';

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: Record<string, unknown>;
  privateJwk: z.infer<typeof SealedJson>;
}

export interface KeyringState {
  keys: SigningKey[];
}

/** Ensures one signing key per algorithm exists; generating is done by the caller (not pure). */
export interface EnsureSigningKeyCommand {
  type: 'ensure_signing_key';
  candidate: SigningKey;
}

export type KeyringCommand = EnsureSigningKeyCommand;

export function decideKeyring(command: KeyringCommand, state: KeyringState): Decision<KeyringEvent> {
  switch (command.type) {
    case 'ensure_signing_key':
      if (activeKey(state, command.candidate.alg)) return accept();
      return accept({ type: 'signing_key.generated', schemaVersion: 1, data: command.candidate });
  }
}

export function evolveKeyring(state: KeyringState, event: KeyringEvent): KeyringState {
  switch (event.type) {
    case 'signing_key.generated':
      return { keys: [...state.keys, event.data] };
    default: {
      const exhaustive: never = event.type;
      return exhaustive;
    }
  }
}

/** The newest key of an algorithm signs. */
export const activeKey = (state: KeyringState, alg: SigningAlg): SigningKey | undefined =>
  state.keys.filter((k) => k.alg === alg).at(-1);

export const keyringDecider: Decider<KeyringState, KeyringCommand, KeyringEvent> = {
  initialState: () => ({ keys: [] }),
  evolve: evolveKeyring,
  decide: decideKeyring,
};
