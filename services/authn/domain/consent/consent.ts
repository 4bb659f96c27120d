import type { ConsentEvent } from '../../../../contracts/events/consent.js';
import { accept, type Decider, type Decision } from '../../../shared/domain/decider.js';

export interface ConsentState {
  scopes: string[];
}

export interface GrantConsentCommand {
  type: 'grant_consent';
  sub: string;
  clientId: string;
  scopes: string[];
}

export type ConsentCommand = GrantConsentCommand;

export function decideConsent(command: ConsentCommand, state: ConsentState): Decision<ConsentEvent> {
  switch (command.type) {
    case 'grant_consent': {
      // Consent already covering every scope writes nothing. The event carries the whole set
      // granted so far, so the newest consent event alone is the state.
      const newScopes = command.scopes.filter((s) => !state.scopes.includes(s));
      if (newScopes.length === 0) return accept();
      return accept({
        type: 'consent.granted',
        schemaVersion: 1,
        data: { sub: command.sub, clientId: command.clientId, scopes: [...new Set([...state.scopes, ...command.scopes])] },
      });
    }
  }
}

export function evolveConsent(state: ConsentState, event: ConsentEvent): ConsentState {
  switch (event.type) {
    case 'consent.granted':
      return { scopes: event.data.scopes };
    default: {
      const exhaustive: never = event.type;
      return exhaustive;
    }
  }
}

export const coversScopes = (state: ConsentState, scopes: string[]): boolean =>
  scopes.every((s) => state.scopes.includes(s));

export const consentDecider: Decider<ConsentState, ConsentCommand, ConsentEvent> = {
  initialState: () => ({ scopes: [] }),
  evolve: evolveConsent,
  decide: decideConsent,
};
