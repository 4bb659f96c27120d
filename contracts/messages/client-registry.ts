import { z } from 'zod';
import { RegistrationAuthority, TokenEndpointAuthMethod } from '../events/client.js';
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
  /**
   * Seconds during which a rotated refresh token may be presented again and get the same
   * successor instead of revoking the grant (0: off). RFC 7591 extension metadata
   * `refresh_token_reuse_grace_seconds`.
   */
  refreshTokenReuseGraceSeconds: z.number().int().min(0),
  /** RP-Initiated Logout 1.0 §3.1 `post_logout_redirect_uris`. */
  postLogoutRedirectUris: z.array(z.string()),
  /** Back-Channel Logout 1.0 §2.2 `backchannel_logout_uri`; null: none. */
  backchannelLogoutUri: z.string().nullable(),
  /** Back-Channel Logout 1.0 §2.2 `backchannel_logout_session_required`. */
  backchannelLogoutSessionRequired: z.boolean(),
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
  refresh_token_reuse_grace_seconds: z.unknown().optional(),
  post_logout_redirect_uris: z.unknown().optional(),
  backchannel_logout_uri: z.unknown().optional(),
  backchannel_logout_session_required: z.unknown().optional(),
});

export const RegisterClient = message(
  'idp.client-registry.register_client',
  {
    metadata: ClientMetadataInput,
    /** Only for seeding (demo client): a fixed client id instead of a generated one. */
    clientId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
    /**
     * Who let this registration in: the gateway says `initial_access_token` only when
     * IDP_INITIAL_ACCESS_TOKEN is configured and was presented. Absent means `open`. The
     * client-registry decides what that allows (the `password` grant needs the token).
     */
    authorizedBy: RegistrationAuthority.optional(),
  },
  z.object({
    client: ClientView,
    clientSecret: z.string().optional(),
    /** RFC 7592 §3: returned once, when the client was created (never for a seeded client). */
    registrationAccessToken: z.string().optional(),
    created: z.boolean(),
  }),
  { callers: ['gateway', 'admin'] },
);

export const GetClient = message(
  'idp.client-registry.get_client',
  { clientId: z.string() },
  z.object({ client: ClientView.nullable() }),
  { callers: ['gateway', 'token-issuer', 'admin'] },
);

/**
 * A client's authentication as a back-channel request presented it (RFC 6749 §2.3.1), read by
 * the gateway (Basic credentials decoded, one method only): the method, the client_id, and the
 * secret for `client_secret_basic` / `client_secret_post` (null for `none`). It proves nothing
 * until the client-registry has checked it; the token-issuer has it checked itself.
 */
export const PresentedClientAuthentication = z.object({
  clientId: z.string(),
  method: TokenEndpointAuthMethod,
  clientSecret: z.string().nullable(),
});
export type PresentedClientAuthentication = z.infer<typeof PresentedClientAuthentication>;

/**
 * Checks a presented client authentication against the registered client; a wrong or missing
 * secret, another method than the registered one, an unknown or deleted client: 401
 * `invalid_client`. Asked by the token-issuer for every token, introspection and revocation
 * request, so that what it grants rests on its own check, not on the gateway's word.
 */
export const AuthenticateClient = message(
  'idp.client-registry.authenticate_client',
  PresentedClientAuthentication.shape,
  z.object({ client: ClientView }),
  { callers: ['token-issuer'] },
);

/**
 * RFC 7592 client configuration. The registration access token travels as the client presented
 * it; the client-registry compares its SHA-256 with the recorded one. A missing, deleted or
 * unmanageable client and a wrong token are all 401 `invalid_token` (RFC 7592 §2.1).
 */
export const ReadClientConfiguration = message(
  'idp.client-registry.read_client_configuration',
  { clientId: z.string(), registrationAccessToken: z.string() },
  z.object({ client: ClientView }),
  { callers: ['gateway', 'admin'] },
);

/**
 * RFC 7592 §2.2: replaces the metadata. `clientSecret` is the `client_secret` of the request (it
 * must be the current one); `rotateSecret` asks for a new secret, returned once.
 */
export const UpdateClient = message(
  'idp.client-registry.update_client',
  {
    clientId: z.string(),
    registrationAccessToken: z.string(),
    metadata: ClientMetadataInput,
    clientSecret: z.string().nullable(),
    rotateSecret: z.boolean(),
  },
  z.object({ client: ClientView, clientSecret: z.string().optional() }),
  { callers: ['gateway', 'admin'] },
);

/**
 * Replaces a confidential client's secret; the old one is refused from the moment this answers.
 * With the registration access token (RFC 7592 holders), or without it from an administrator
 * (the admin CLI): the bus is a trust boundary.
 */
export const RotateClientSecret = message(
  'idp.client-registry.rotate_client_secret',
  { clientId: z.string(), registrationAccessToken: z.string().optional() },
  z.object({ clientSecret: z.string() }),
  { callers: ['gateway', 'admin'] },
);

/**
 * RFC 7592 §2.3: deletes the client; its tokens are refused from the moment this answers and
 * it can no longer authenticate. Without a registration access token: an administrator.
 */
export const DeleteClient = message(
  'idp.client-registry.delete_client',
  { clientId: z.string(), registrationAccessToken: z.string().optional() },
  z.object({ deleted: z.literal(true) }),
  { callers: ['gateway', 'admin'] },
);

/**
 * An administrator revokes every token of the client issued until now (`client.tokens_revoked`):
 * refused by introspection and userinfo from the moment this answers.
 */
export const RevokeClientTokens = message(
  'idp.client-registry.revoke_client_tokens',
  { clientId: z.string() },
  z.object({ revokedAt: z.string() }),
  { callers: ['gateway', 'admin'] },
);

/**
 * Every client of the tenant that is not deleted, in registration order, with whether its tokens
 * were revoked and when (`idp client list`). Read from the log: an administrator's command, not a
 * hot path.
 */
export const ListClients = message(
  'idp.client-registry.list_clients',
  {},
  z.object({ clients: z.array(ClientView.extend({ tokensRevokedAt: z.string().nullable() })) }),
  { callers: ['admin'] },
);
