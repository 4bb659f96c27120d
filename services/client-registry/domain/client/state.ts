import type { TokenEndpointAuthMethod } from '../../../../contracts/events/client.js';

export interface RegisteredClient {
  clientId: string;
  clientName?: string;
  applicationType: 'web' | 'native';
  redirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  secretHash: string | null;
  scope: string;
  idTokenSignedResponseAlg: 'RS256';
}

export type ClientState = { status: 'unregistered' } | { status: 'registered'; client: RegisteredClient };

export const initialClientState = (): ClientState => ({ status: 'unregistered' });
