import { ClientEvent } from '../../../contracts/events/client.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { clientWatermarks } from '../../shared/projections/client-watermark.js';
import { combine, projection } from '../../shared/projections/project.js';
import { NO_LOGOUT_METADATA, registeredClient, updatedMetadata } from '../domain/client/evolve.js';
import type { RegisteredClient } from '../domain/client/state.js';

/**
 * A client is three keys, each written whole by the events that change it, so that the
 * projection stays a pure function of one event: its metadata (registration, RFC 7592 update),
 * its registration facts (never change), its secret (registration, rotation). A deleted client
 * has none.
 */
export const clientKey = (tenant: string, clientId: string) => `client:${tenant}:${clientId}`;
export const clientRegistrationKey = (tenant: string, clientId: string) => `client-registration:${tenant}:${clientId}`;
export const clientSecretKey = (tenant: string, clientId: string) => `client-secret:${tenant}:${clientId}`;

type Credentials = 'secretHash' | 'authorizedBy' | 'registrationAccessTokenHash';
export type ClientMetadataRecord = Omit<RegisteredClient, Credentials>;
export interface ClientRegistrationRecord {
  /** Epoch seconds (RFC 7591 client_id_issued_at). */
  clientIdIssuedAt: number;
  authorizedBy: RegisteredClient['authorizedBy'];
  registrationAccessTokenHash: string | null;
}
export interface ClientSecretRecord {
  secretHash: string | null;
}

export interface ClientRecord extends RegisteredClient {
  /** Epoch seconds (RFC 7591 client_id_issued_at). */
  clientIdIssuedAt: number;
}

/** The checkpoint of this projection, shared by the projector and the write-through. */
export const CLIENT_REGISTRY_CHECKPOINT = 'client-registry';

export const clientById = projection(
  ClientEvent,
  ['client.registered', 'client.metadata_updated', 'client.secret_rotated', 'client.deleted'],
  (event, meta) => {
    const id = event.data.clientId;
    switch (event.type) {
      case 'client.registered': {
        const { secretHash, authorizedBy, registrationAccessTokenHash, ...metadata } = registeredClient(event);
        const registration: ClientRegistrationRecord = {
          clientIdIssuedAt: Math.floor(Date.parse(meta.time) / 1000),
          authorizedBy,
          registrationAccessTokenHash,
        };
        return [
          { kind: 'put', key: clientKey(meta.tenant, id), value: metadata satisfies ClientMetadataRecord },
          { kind: 'put', key: clientRegistrationKey(meta.tenant, id), value: registration },
          { kind: 'put', key: clientSecretKey(meta.tenant, id), value: { secretHash } satisfies ClientSecretRecord },
        ];
      }
      case 'client.metadata_updated':
        return [{ kind: 'put', key: clientKey(meta.tenant, id), value: updatedMetadata(event) satisfies ClientMetadataRecord }];
      case 'client.secret_rotated':
        return [{ kind: 'put', key: clientSecretKey(meta.tenant, id), value: { secretHash: event.data.secretHash } satisfies ClientSecretRecord }];
      case 'client.deleted':
        return [
          { kind: 'delete', key: clientKey(meta.tenant, id) },
          { kind: 'delete', key: clientRegistrationKey(meta.tenant, id) },
          { kind: 'delete', key: clientSecretKey(meta.tenant, id) },
        ];
      default:
        return [];
    }
  },
);

/**
 * What the client-registry projects (and writes through): its clients, and the client
 * watermarks the token-issuer reads, so that they are visible at the very next request.
 */
export const clientRegistryProjections = combine(clientById, clientWatermarks);

/**
 * The client as the three keys hold it. A record projected before the keys were split holds
 * everything itself (no registration key): it is read as it is.
 */
export async function readClient(store: ProjectionStore, tenant: string, clientId: string): Promise<ClientRecord | undefined> {
  const [metadata, registration, secret] = await Promise.all([
    store.get<Partial<ClientRecord>>(clientKey(tenant, clientId)),
    store.get<ClientRegistrationRecord>(clientRegistrationKey(tenant, clientId)),
    store.get<ClientSecretRecord>(clientSecretKey(tenant, clientId)),
  ]);
  if (!metadata) return undefined;
  if (!registration) {
    if (metadata.clientIdIssuedAt === undefined || metadata.secretHash === undefined) return undefined;
    return { refreshTokenReuseGraceSeconds: 0, authorizedBy: 'open', registrationAccessTokenHash: null, ...NO_LOGOUT_METADATA, ...metadata } as ClientRecord;
  }
  if (!secret) return undefined;
  // A record projected before the logout metadata existed (a Redis kept across the upgrade) has none.
  return { ...NO_LOGOUT_METADATA, ...(metadata as ClientMetadataRecord), ...registration, secretHash: secret.secretHash };
}
