import type { ClientEvent } from '../../../../contracts/events/client.js';
import type { ClientState, RegisteredClient } from './state.js';

/** A registered client as the state and the projections keep it, from either version. */
export function registeredClient(event: Extract<ClientEvent, { type: 'client.registered' }>): RegisteredClient {
  switch (event.schemaVersion) {
    case 1: {
      const { clientName, ...rest } = event.data;
      // Version 1 knew neither the grace, nor RFC 7592, nor who authorized it: the safe defaults.
      return {
        ...rest,
        ...(clientName !== undefined ? { clientName } : {}),
        refreshTokenReuseGraceSeconds: 0,
        authorizedBy: 'open',
        registrationAccessTokenHash: null,
      };
    }
    case 2: {
      const { clientName, ...rest } = event.data;
      return { ...rest, ...(clientName !== undefined ? { clientName } : {}) };
    }
  }
}

export function evolveClient(state: ClientState, event: ClientEvent): ClientState {
  switch (event.type) {
    case 'client.registered':
      return { status: 'registered', client: registeredClient(event) };
    default: {
      const exhaustive: never = event.type;
      return exhaustive;
    }
  }
}
