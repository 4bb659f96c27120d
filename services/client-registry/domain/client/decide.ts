import type { ClientEvent, RegistrationAuthority } from '../../../../contracts/events/client.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { accept, reject, type Decision } from '../../../shared/domain/decider.js';
import { authorizeClientAccess, sameHash, type ClientAccess } from './management-access.js';
import { validateClientMetadata, type ValidClientMetadata } from './metadata.js';
import type { ClientState, RegisteredClient } from './state.js';

export interface RegisterClientCommand {
  type: 'register_client';
  clientId: string;
  /** SHA-256 of the generated secret, or null for a public client. */
  secretHash: string | null;
  /** SHA-256 of the generated registration access token, or null (seeded clients). */
  registrationAccessTokenHash: string | null;
  authorizedBy: RegistrationAuthority;
  metadata: Record<string, unknown>;
}

/** RFC 7592 §2.2: the client's metadata replaced as a whole. */
export interface UpdateClientCommand {
  type: 'update_client';
  clientId: string;
  access: ClientAccess;
  metadata: Record<string, unknown>;
  /** SHA-256 of the `client_secret` the request carried (it must be the current one), or null. */
  presentedSecretHash: string | null;
  /** SHA-256 of a fresh secret when the client asked for one, or null. */
  newSecretHash: string | null;
}

export interface RotateClientSecretCommand {
  type: 'rotate_client_secret';
  clientId: string;
  access: ClientAccess;
  /** SHA-256 of the fresh 256-bit secret. */
  newSecretHash: string;
}

/** Every token of the client issued up to `at` is refused from then on (an administrator's act). */
export interface RevokeClientTokensCommand {
  type: 'revoke_client_tokens';
  clientId: string;
  at: string;
}

export interface DeleteClientCommand {
  type: 'delete_client';
  clientId: string;
  access: ClientAccess;
  at: string;
}

export type ClientCommand =
  | RegisterClientCommand
  | UpdateClientCommand
  | RotateClientSecretCommand
  | RevokeClientTokensCommand
  | DeleteClientCommand;

const metadataError = (description: string) => new OAuthError('invalid_client_metadata', description, { mayRedirect: false });

/** Runs a check that throws an OAuthError, as a rejection. */
function refused(check: () => void): OAuthError | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
}

export function decideClient(command: ClientCommand, state: ClientState): Decision<ClientEvent> {
  switch (command.type) {
    case 'register_client':
      return decideRegister(command, state);
    case 'update_client':
      return decideUpdate(command, state);
    case 'rotate_client_secret': {
      let client!: RegisteredClient;
      const refusal = refused(() => (client = authorizeClientAccess(state, command.access)));
      if (refusal) return reject(refusal);
      if (client.secretHash === null) {
        return reject(new OAuthError('invalid_request', 'a public client has no secret to rotate', { mayRedirect: false }));
      }
      return accept({ type: 'client.secret_rotated', schemaVersion: 1, data: { clientId: client.clientId, secretHash: command.newSecretHash } });
    }
    case 'revoke_client_tokens': {
      // A deleted client's tokens are all refused already.
      if (state.status === 'deleted') return accept();
      const refusal = refused(() => authorizeClientAccess(state, { kind: 'admin' }));
      if (refusal) return reject(refusal);
      return accept({ type: 'client.tokens_revoked', schemaVersion: 1, data: { clientId: command.clientId, revokedAt: command.at } });
    }
    case 'delete_client': {
      if (state.status === 'deleted' && command.access.kind === 'admin') return accept();
      const refusal = refused(() => authorizeClientAccess(state, command.access));
      if (refusal) return reject(refusal);
      return accept({ type: 'client.deleted', schemaVersion: 1, data: { clientId: command.clientId, deletedAt: command.at } });
    }
  }
}

function decideRegister(command: RegisterClientCommand, state: ClientState): Decision<ClientEvent> {
  // Registering an existing id is a no-op: seeding at every start writes nothing twice.
  if (state.status === 'registered') return accept();
  // RFC 7592 §2.3: a deleted client is gone for good; its id is not handed out again.
  if (state.status === 'deleted') return reject(metadataError('this client id was deleted'));
  let metadata!: ValidClientMetadata;
  const refusal = refused(() => (metadata = validateClientMetadata(command.metadata, command.authorizedBy)));
  if (refusal) return reject(refusal);
  const isPublic = metadata.tokenEndpointAuthMethod === 'none';
  if (isPublic !== (command.secretHash === null)) {
    throw new Error('a client has a secret if and only if it authenticates with one');
  }
  return accept({
    type: 'client.registered',
    schemaVersion: 3,
    data: {
      clientId: command.clientId,
      secretHash: command.secretHash,
      ...metadata,
      authorizedBy: command.authorizedBy,
      registrationAccessTokenHash: command.registrationAccessTokenHash,
    },
  });
}

function decideUpdate(command: UpdateClientCommand, state: ClientState): Decision<ClientEvent> {
  let client!: RegisteredClient;
  const denied = refused(() => (client = authorizeClientAccess(state, command.access)));
  if (denied) return reject(denied);
  // RFC 7592 §2.2: the client_id in the body must be the client's own.
  if (command.metadata.client_id !== client.clientId) return reject(metadataError('client_id must be the client\'s own'));
  let metadata!: ValidClientMetadata;
  // A password client stays one only as long as its registration was authorized for it.
  const invalid = refused(() => (metadata = validateClientMetadata(command.metadata, client.authorizedBy)));
  if (invalid) return reject(invalid);
  const wasPublic = client.tokenEndpointAuthMethod === 'none';
  if ((metadata.tokenEndpointAuthMethod === 'none') !== wasPublic) {
    return reject(metadataError('token_endpoint_auth_method cannot change between none and a secret; register a new client'));
  }
  // RFC 7592 §2.2: a client_secret in the request must be the current one (never a chosen one).
  if (command.presentedSecretHash !== null && (client.secretHash === null || !sameHash(client.secretHash, command.presentedSecretHash))) {
    return reject(metadataError('client_secret does not match the current secret'));
  }
  if (command.newSecretHash !== null && wasPublic) return reject(metadataError('a public client has no secret to rotate'));

  const events: ClientEvent[] = [];
  const data = { clientId: client.clientId, ...metadata };
  // Nothing changed, nothing recorded (the answer is the same metadata).
  if (JSON.stringify(data) !== JSON.stringify(metadataOf(client))) {
    events.push({ type: 'client.metadata_updated', schemaVersion: 2, data });
  }
  if (command.newSecretHash !== null) {
    events.push({ type: 'client.secret_rotated', schemaVersion: 1, data: { clientId: client.clientId, secretHash: command.newSecretHash } });
  }
  return accept(...events);
}

/** The client's metadata in the shape (and key order) of client.metadata_updated. */
function metadataOf(client: RegisteredClient) {
  return {
    clientId: client.clientId,
    ...(client.clientName !== undefined ? { clientName: client.clientName } : {}),
    applicationType: client.applicationType,
    redirectUris: client.redirectUris,
    grantTypes: client.grantTypes,
    responseTypes: client.responseTypes,
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
    scope: client.scope,
    idTokenSignedResponseAlg: client.idTokenSignedResponseAlg,
    refreshTokenReuseGraceSeconds: client.refreshTokenReuseGraceSeconds,
    postLogoutRedirectUris: client.postLogoutRedirectUris,
    backchannelLogoutUri: client.backchannelLogoutUri,
    backchannelLogoutSessionRequired: client.backchannelLogoutSessionRequired,
  };
}
