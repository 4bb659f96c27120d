import type { ClientEvent, LogoutMetadata } from '../../../../contracts/events/client.js';
import type { ClientState, RegisteredClient } from './state.js';

type Registered = Extract<ClientEvent, { type: 'client.registered' }>;
type MetadataUpdated = Extract<ClientEvent, { type: 'client.metadata_updated' }>;

/** What a client registered before the logout metadata existed has: no logout metadata. */
export const NO_LOGOUT_METADATA: LogoutMetadata = {
  postLogoutRedirectUris: [],
  backchannelLogoutUri: null,
  backchannelLogoutSessionRequired: false,
};

/** A registered client as the state and the projections keep it, from any version. */
export function registeredClient(event: Registered): RegisteredClient {
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
        ...NO_LOGOUT_METADATA,
      };
    }
    case 2: {
      const { clientName, ...rest } = event.data;
      return { ...rest, ...(clientName !== undefined ? { clientName } : {}), ...NO_LOGOUT_METADATA };
    }
    case 3: {
      const { clientName, ...rest } = event.data;
      return { ...rest, ...(clientName !== undefined ? { clientName } : {}) };
    }
  }
}

/** The metadata an RFC 7592 update set, from either version (V1 knew no logout metadata). */
export function updatedMetadata(event: MetadataUpdated) {
  return event.schemaVersion === 1 ? { ...event.data, ...NO_LOGOUT_METADATA } : event.data;
}

/** The client after an RFC 7592 update: its metadata replaced, its credentials kept. */
export function updatedClient(client: RegisteredClient, event: MetadataUpdated): RegisteredClient {
  const { clientName: _oldName, ...kept } = client;
  const { clientName, ...metadata } = updatedMetadata(event);
  return { ...kept, ...metadata, ...(clientName !== undefined ? { clientName } : {}) };
}

export function evolveClient(state: ClientState, event: ClientEvent): ClientState {
  switch (event.type) {
    case 'client.registered':
      return { status: 'registered', client: registeredClient(event) };
    case 'client.metadata_updated':
      return state.status === 'registered' ? { status: 'registered', client: updatedClient(state.client, event) } : state;
    case 'client.secret_rotated':
      return state.status === 'registered' ? { status: 'registered', client: { ...state.client, secretHash: event.data.secretHash } } : state;
    case 'client.tokens_revoked':
      // The watermark concerns the tokens (token-issuer), not what the client may do.
      return state;
    case 'client.deleted':
      return { status: 'deleted', clientId: event.data.clientId };
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}
