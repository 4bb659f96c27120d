import type { ClientEvent, RegistrationAuthority } from '../../../../contracts/events/client.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { accept, reject, type Decision } from '../../../shared/domain/decider.js';
import { validateClientMetadata } from './metadata.js';
import type { ClientState } from './state.js';

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

export type ClientCommand = RegisterClientCommand;

export function decideClient(command: ClientCommand, state: ClientState): Decision<ClientEvent> {
  switch (command.type) {
    case 'register_client': {
      // Registering an existing id is a no-op: seeding at every start writes nothing twice.
      if (state.status === 'registered') return accept();
      // RFC 7592 §2.3: a deleted client is gone for good; its id is not handed out again.
      if (state.status === 'deleted') {
        return reject(new OAuthError('invalid_client_metadata', 'this client id was deleted', { mayRedirect: false }));
      }
      let metadata;
      try {
        metadata = validateClientMetadata(command.metadata, command.authorizedBy);
      } catch (error) {
        if (error instanceof OAuthError) return reject(error);
        throw error;
      }
      const isPublic = metadata.tokenEndpointAuthMethod === 'none';
      if (isPublic !== (command.secretHash === null)) {
        throw new Error('a client has a secret if and only if it authenticates with one');
      }
      return accept({
        type: 'client.registered',
        schemaVersion: 2,
        data: {
          clientId: command.clientId,
          secretHash: command.secretHash,
          ...metadata,
          authorizedBy: command.authorizedBy,
          registrationAccessTokenHash: command.registrationAccessTokenHash,
        },
      });
    }
  }
}
