import { z } from 'zod';
import { eventSchema, Sha256Hex } from './define.js';

export const TokenEndpointAuthMethod = z.enum(['client_secret_basic', 'client_secret_post', 'none']);
export type TokenEndpointAuthMethod = z.infer<typeof TokenEndpointAuthMethod>;

export const ClientRegisteredV1 = eventSchema(
  'client.registered',
  1,
  z.object({
    clientId: z.string().min(1),
    clientName: z.string().optional(),
    applicationType: z.enum(['web', 'native']),
    redirectUris: z.array(z.string()).min(1),
    grantTypes: z.array(z.string()).min(1),
    responseTypes: z.array(z.string()),
    tokenEndpointAuthMethod: TokenEndpointAuthMethod,
    /** SHA-256 of the server-generated 256-bit secret; null for public clients. */
    secretHash: Sha256Hex.nullable(),
    /** Space-separated scopes the client may request. */
    scope: z.string(),
    idTokenSignedResponseAlg: z.enum(['RS256']),
  }),
);

export const ClientEvent = z.discriminatedUnion('type', [ClientRegisteredV1]);
export type ClientEvent = z.infer<typeof ClientEvent>;
