import { ClientEvent } from '../../../contracts/events/client.js';
import { projection } from '../../shared/projections/project.js';
import { registeredClient } from '../domain/client/evolve.js';
import type { RegisteredClient } from '../domain/client/state.js';

export const clientKey = (tenant: string, clientId: string) => `client:${tenant}:${clientId}`;

export interface ClientRecord extends RegisteredClient {
  /** Epoch seconds (RFC 7591 client_id_issued_at). */
  clientIdIssuedAt: number;
}

/** The checkpoint of this projection, shared by the projector and the write-through. */
export const CLIENT_REGISTRY_CHECKPOINT = 'client-registry';

export const clientById = projection(ClientEvent, ['client.registered'], (event, meta) => {
  switch (event.type) {
    case 'client.registered': {
      const record: ClientRecord = { ...registeredClient(event), clientIdIssuedAt: Math.floor(Date.parse(meta.time) / 1000) };
      return [{ kind: 'put', key: clientKey(meta.tenant, event.data.clientId), value: record }];
    }
  }
});
