import { ClientEvent } from '../../../contracts/events/client.js';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { ClientView } from '../../../contracts/messages/client-registry.js';
import type { RegistrationAuthority, TokenEndpointAuthMethod } from '../../../contracts/events/client.js';
import { streams } from '../../../contracts/streams.js';
import { constantTimeEqual, randomSecret, sha256Hex } from '../../../infra/crypto/secrets.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { handleCommand, type HandledCommand } from '../../shared/app/command-handler.js';
import { authenticateClient } from '../../client-registry/domain/client/authenticate.js';
import type { ClientCommand } from '../domain/client/decide.js';
import { clientDecider } from '../domain/client/decider.js';
import type { ClientState } from '../domain/client/state.js';
import { CLIENT_REGISTRY_CHECKPOINT, clientRegistryProjections, readClient, type ClientRecord } from '../projections/client-by-id.js';

export interface ClientRegistryDeps {
  store: EventStore;
  projections: ProjectionStore;
  clock?: () => Date;
}

/** Decides one command on the client's stream and writes the projections through. */
export function decideOnClient(
  deps: ClientRegistryDeps,
  ctx: RequestContext,
  clientId: string,
  command: ClientCommand | ((state: ClientState) => Promise<ClientCommand>),
): Promise<HandledCommand<ClientState, ClientEvent>> {
  return handleCommand(
    {
      store: deps.store,
      service: 'client-registry',
      projections: { store: deps.projections, project: clientRegistryProjections, checkpoint: CLIENT_REGISTRY_CHECKPOINT },
      ...(deps.clock ? { clock: deps.clock } : {}),
    },
    { streamName: streams.client(ctx.tenant, clientId), decider: clientDecider, schema: ClientEvent, command, ctx },
  );
}

export class ClientRegistryApp {
  constructor(private readonly deps: ClientRegistryDeps) {}

  /**
   * RFC 7591 §3: registers a client. The secret (256 random bits) is returned once and only its
   * SHA-256 is recorded (DESIGN §4). So is the RFC 7592 registration access token, except for a
   * seeded client (a fixed id), which is not managed over RFC 7592.
   */
  async register(
    ctx: RequestContext,
    metadata: Record<string, unknown>,
    options: { fixedClientId?: string; authorizedBy?: RegistrationAuthority } = {},
  ): Promise<{ client: ClientView; clientSecret?: string; registrationAccessToken?: string; created: boolean }> {
    const clientId = options.fixedClientId ?? newClientId();
    const isPublic = metadata.token_endpoint_auth_method === 'none';
    const clientSecret = isPublic ? undefined : randomSecret(32);
    const registrationAccessToken = options.fixedClientId === undefined ? randomSecret(32) : undefined;
    const { decision, appended } = await decideOnClient(this.deps, ctx, clientId, {
      type: 'register_client',
      clientId,
      secretHash: clientSecret === undefined ? null : sha256Hex(clientSecret),
      registrationAccessTokenHash: registrationAccessToken === undefined ? null : sha256Hex(registrationAccessToken),
      authorizedBy: options.authorizedBy ?? 'open',
      metadata,
    });
    if (decision.rejection) throw decision.rejection;
    const record = await this.find(ctx, clientId);
    if (!record) throw new Error(`client ${clientId} missing from projection after registration`);
    const created = appended.length > 0;
    return {
      client: toView(record),
      ...(created && clientSecret ? { clientSecret } : {}),
      ...(created && registrationAccessToken ? { registrationAccessToken } : {}),
      created,
    };
  }

  async get(ctx: RequestContext, clientId: string): Promise<ClientView | null> {
    const record = await this.find(ctx, clientId);
    return record ? toView(record) : null;
  }

  async authenticate(
    ctx: RequestContext,
    clientId: string,
    method: TokenEndpointAuthMethod,
    clientSecret: string | null,
  ): Promise<ClientView> {
    const record = await this.find(ctx, clientId);
    const client = authenticateClient(
      record ? { status: 'registered', client: record } : { status: 'unregistered' },
      method,
      (secretHash) => clientSecret !== null && constantTimeEqual(sha256Hex(clientSecret), secretHash),
    );
    return toView({ ...client, clientIdIssuedAt: record?.clientIdIssuedAt ?? 0 });
  }

  private find(ctx: RequestContext, clientId: string): Promise<ClientRecord | undefined> {
    return readClient(this.deps.projections, ctx.tenant, clientId);
  }
}

export function toView(record: ClientRecord): ClientView {
  const { secretHash: _secretHash, registrationAccessTokenHash: _tokenHash, authorizedBy: _authorizedBy, ...view } = record;
  return view;
}

/**
 * A new client_id: 16 random bytes, base64url, never starting with '-' or '_' (an id that starts
 * with '-' reads as an option on a command line: `idp audit client -Xy…`).
 */
function newClientId(): string {
  for (;;) {
    const id = randomSecret(16);
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}
