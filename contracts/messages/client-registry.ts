import { z } from 'zod';
import { TokenEndpointAuthMethod } from '../events/client.js';
import { message } from './define.js';

/** A registered client as other services see it (no secret, not even its hash). */
export const ClientView = z.object({
  clientId: z.string(),
  clientName: z.string().optional(),
  applicationType: z.enum(['web', 'native']),
  redirectUris: z.array(z.string()),
  grantTypes: z.array(z.string()),
  responseTypes: z.array(z.string()),
  tokenEndpointAuthMethod: TokenEndpointAuthMethod,
  scope: z.string(),
  idTokenSignedResponseAlg: z.string(),
  /** Epoch seconds. */
  clientIdIssuedAt: z.number().int(),
});
export type ClientView = z.infer<typeof ClientView>;

/** RFC 7591 §2 client metadata as received (validated by the client aggregate). */
export const ClientMetadataInput = z.looseObject({
  redirect_uris: z.unknown().optional(),
  token_endpoint_auth_method: z.unknown().optional(),
  grant_types: z.unknown().optional(),
  response_types: z.unknown().optional(),
  client_name: z.unknown().optional(),
  scope: z.unknown().optional(),
  application_type: z.unknown().optional(),
  id_token_signed_response_alg: z.unknown().optional(),
});

export const RegisterClient = message(
  'idp.client-registry.register_client',
  {
    metadata: ClientMetadataInput,
    /** Only for seeding (demo client): a fixed client id instead of a generated one. */
    clientId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  },
  z.object({ client: ClientView, clientSecret: z.string().optional(), created: z.boolean() }),
);

export const GetClient = message(
  'idp.client-registry.get_client',
  { clientId: z.string() },
  z.object({ client: ClientView.nullable() }),
);

export const AuthenticateClient = message(
  'idp.client-registry.authenticate_client',
  {
    clientId: z.string(),
    method: TokenEndpointAuthMethod,
    clientSecret: z.string().nullable(),
  },
  z.object({ client: ClientView }),
);
