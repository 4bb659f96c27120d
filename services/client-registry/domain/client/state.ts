import type { IdTokenSigningAlg, RegistrationAuthority, TokenEndpointAuthMethod } from '../../../../contracts/events/client.js';

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
  idTokenSignedResponseAlg: IdTokenSigningAlg;
  refreshTokenReuseGraceSeconds: number;
  /** RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 (client.registered v3). */
  postLogoutRedirectUris: string[];
  backchannelLogoutUri: string | null;
  backchannelLogoutSessionRequired: boolean;
  /** Who let the registration in; `open` for clients registered before this was recorded. */
  authorizedBy: RegistrationAuthority;
  /** SHA-256 of the RFC 7592 registration access token; null: not manageable over RFC 7592. */
  registrationAccessTokenHash: string | null;
}

export type ClientState =
  | { status: 'unregistered' }
  | { status: 'registered'; client: RegisteredClient }
  /** A deleted client stays deleted: its id is never registered again (RFC 7592 §2.3). */
  | { status: 'deleted'; clientId: string };

export const initialClientState = (): ClientState => ({ status: 'unregistered' });
