import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { ClientView } from '../../../contracts/messages/client-registry.js';
import { randomSecret, sha256Hex } from '../../../infra/crypto/secrets.js';
import { authorizeClientAccess, type ClientAccess } from '../domain/client/management-access.js';
import { streams } from '../../../contracts/streams.js';
import { clientWatermarkKey, type ClientWatermark } from '../../shared/projections/client-watermark.js';
import { readClient } from '../projections/client-by-id.js';
import { decideOnClient, toView, type ClientRegistryDeps } from './client-registry.app.js';

/** RFC 7592 holders present the token; an administrator (over the bus) presents none. */
export const accessOf = (registrationAccessToken: string | undefined): ClientAccess =>
  registrationAccessToken === undefined ? { kind: 'admin' } : { kind: 'registration_access_token', tokenHash: sha256Hex(registrationAccessToken) };

/**
 * The client lifecycle after registration: RFC 7592 read, update and delete, secret rotation,
 * and the client watermark. Every change is one decision on the client's stream.
 */
export class ClientManagementApp {
  constructor(private readonly deps: ClientRegistryDeps & { clock: () => Date }) {}

  /** RFC 7592 §2.1, from the projection (a hash comparison in constant time). */
  async read(ctx: RequestContext, clientId: string, registrationAccessToken: string): Promise<ClientView> {
    const record = await readClient(this.deps.projections, ctx.tenant, clientId);
    authorizeClientAccess(record ? { status: 'registered', client: record } : { status: 'unregistered' }, accessOf(registrationAccessToken));
    return toView(record!);
  }

  /** RFC 7592 §2.2: replaces the metadata; a new secret when asked for, returned once. */
  async update(
    ctx: RequestContext,
    request: { clientId: string; registrationAccessToken: string; metadata: Record<string, unknown>; clientSecret: string | null; rotateSecret: boolean },
  ): Promise<{ client: ClientView; clientSecret?: string }> {
    const newSecret = request.rotateSecret ? randomSecret(32) : undefined;
    const { decision } = await decideOnClient(this.deps, ctx, request.clientId, {
      type: 'update_client',
      clientId: request.clientId,
      access: accessOf(request.registrationAccessToken),
      metadata: request.metadata,
      presentedSecretHash: request.clientSecret === null ? null : sha256Hex(request.clientSecret),
      newSecretHash: newSecret === undefined ? null : sha256Hex(newSecret),
    });
    if (decision.rejection) throw decision.rejection;
    const record = await readClient(this.deps.projections, ctx.tenant, request.clientId);
    if (!record) throw new Error(`client ${request.clientId} missing from projection after its update`);
    return { client: toView(record), ...(newSecret !== undefined ? { clientSecret: newSecret } : {}) };
  }

  async rotateSecret(ctx: RequestContext, clientId: string, registrationAccessToken: string | undefined): Promise<{ clientSecret: string }> {
    const clientSecret = randomSecret(32);
    const { decision } = await decideOnClient(this.deps, ctx, clientId, {
      type: 'rotate_client_secret',
      clientId,
      access: accessOf(registrationAccessToken),
      newSecretHash: sha256Hex(clientSecret),
    });
    if (decision.rejection) throw decision.rejection;
    return { clientSecret };
  }

  async delete(ctx: RequestContext, clientId: string, registrationAccessToken: string | undefined): Promise<{ deleted: true }> {
    const { decision } = await decideOnClient(this.deps, ctx, clientId, {
      type: 'delete_client',
      clientId,
      access: accessOf(registrationAccessToken),
      at: this.deps.clock().toISOString(),
    });
    if (decision.rejection) throw decision.rejection;
    return { deleted: true };
  }

  async revokeTokens(ctx: RequestContext, clientId: string): Promise<{ revokedAt: string }> {
    const revokedAt = this.deps.clock().toISOString();
    const { decision } = await decideOnClient(this.deps, ctx, clientId, { type: 'revoke_client_tokens', clientId, at: revokedAt });
    if (decision.rejection) throw decision.rejection;
    return { revokedAt };
  }

  /**
   * Every client not deleted, in registration order (`idp client list`): the log's
   * `client.registered` events name them, the projection has each one now. An administrator's
   * command, so a scan of `$all` is acceptable; no hot path lists clients.
   */
  async list(ctx: RequestContext): Promise<Array<ClientView & { tokensRevokedAt: string | null }>> {
    const prefix = streams.client(ctx.tenant, '');
    const ids: string[] = [];
    for (let after = 0; ; ) {
      const page = await this.deps.store.readAll({ after, limit: LIST_PAGE });
      for (const event of page) {
        if (event.type === 'client.registered' && event.streamName.startsWith(prefix)) ids.push(event.streamName.slice(prefix.length));
      }
      if (page.length < LIST_PAGE) break;
      after = page.at(-1)!.position;
    }
    const clients = [];
    for (const clientId of ids) {
      const [record, mark] = await Promise.all([
        readClient(this.deps.projections, ctx.tenant, clientId),
        this.deps.projections.get<ClientWatermark>(clientWatermarkKey(ctx.tenant, clientId)),
      ]);
      if (!record) continue;
      clients.push({ ...toView(record), tokensRevokedAt: mark ? new Date(mark.revokedThrough * 1000).toISOString() : null });
    }
    return clients;
  }
}

/** How many `$all` events one read of the client list takes. */
const LIST_PAGE = 1000;
