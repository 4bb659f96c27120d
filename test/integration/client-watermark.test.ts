import { pino } from 'pino';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { ClientManagementApp } from '../../services/client-registry/app/client-management.app.js';
import { ClientRegistryApp } from '../../services/client-registry/app/client-registry.app.js';
import { ProjectionRunner } from '../../services/shared/adapters/projection-runner.js';
import { refusedByClientWatermark } from '../../services/token-issuer/app/client-watermark.js';
import { TOKEN_ISSUER_CHECKPOINT, tokenIssuerProjections } from '../../services/token-issuer/projections/token-issuer.projections.js';

/**
 * The client watermark across the two services that share it, wired as the embedded mode wires
 * them (one log, one projection store, the token-issuer's own projector), with the real
 * in-memory adapters: the administrator's RevokeClientTokens and a deletion are seen by the
 * token-issuer's check at once, whatever its projector has done; and when its projections are
 * not current (lost, rebuilding), the client's stream decides.
 */
const silent = pino({ level: 'silent' });
const ctx: RequestContext = { tenant: 'default', correlationId: 'watermark-test', causationId: null, actor: { kind: 'system', id: 'test' } };
const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

describe('client watermark (client-registry writes, token-issuer reads)', () => {
  let store: InMemoryEventStore;
  let projections: InMemoryProjectionStore;
  let runner: ProjectionRunner;
  let clock: Date;
  let registry: ClientRegistryApp;
  let management: ClientManagementApp;

  beforeEach(async () => {
    store = new InMemoryEventStore();
    projections = new InMemoryProjectionStore();
    runner = new ProjectionRunner(TOKEN_ISSUER_CHECKPOINT, tokenIssuerProjections, store, projections, silent);
    await runner.start();
    clock = new Date('2026-06-01T12:00:00.250Z');
    registry = new ClientRegistryApp({ store, projections });
    management = new ClientManagementApp({ store, projections, clock: () => clock });
  });

  afterEach(async () => {
    await runner.stop();
  });

  const tokenIssuer = () => ({ store, projections, projectionFreshness: runner });
  const register = async () =>
    (await registry.register(ctx, { redirect_uris: ['https://rp.example/cb'] })) as { client: { clientId: string }; registrationAccessToken: string };

  test('RevokeClientTokens: tokens issued up to the watermark (same second included) are refused at once, later ones and other clients\' are not', async () => {
    const { client } = await register();
    const other = (await register()).client;
    const { revokedAt } = await management.revokeTokens(ctx, client.clientId);
    const at = seconds(revokedAt);

    expect(await refusedByClientWatermark(tokenIssuer(), ctx, client.clientId, at - 3600)).toBe(true);
    expect(await refusedByClientWatermark(tokenIssuer(), ctx, client.clientId, at)).toBe(true);
    expect(await refusedByClientWatermark(tokenIssuer(), ctx, client.clientId, at + 1)).toBe(false);
    expect(await refusedByClientWatermark(tokenIssuer(), ctx, other.clientId, at)).toBe(false);
  });

  test('a later RevokeClientTokens moves the watermark forward', async () => {
    const { client } = await register();
    await management.revokeTokens(ctx, client.clientId);
    clock = new Date(clock.getTime() + 60_000);
    const { revokedAt } = await management.revokeTokens(ctx, client.clientId);
    expect(await refusedByClientWatermark(tokenIssuer(), ctx, client.clientId, seconds(revokedAt) - 30)).toBe(true);
  });

  test('a deleted client\'s tokens are refused whenever they were issued', async () => {
    const { client, registrationAccessToken } = await register();
    await management.delete(ctx, client.clientId, registrationAccessToken);
    expect(await refusedByClientWatermark(tokenIssuer(), ctx, client.clientId, seconds(clock.toISOString()) + 3600)).toBe(true);
  });

  test('with the token-issuer\'s projections lost (not current), the client stream decides: never fails open', async () => {
    const { client } = await register();
    const { revokedAt } = await management.revokeTokens(ctx, client.clientId);
    await runner.stop();
    // Redis restarted empty: the watermark is gone from the projections, the projector is not live.
    await projections.clear();
    expect(await projections.get(`client-watermark:default:${client.clientId}`)).toBeUndefined();
    expect(await refusedByClientWatermark(tokenIssuer(), ctx, client.clientId, seconds(revokedAt))).toBe(true);
    expect(await refusedByClientWatermark(tokenIssuer(), ctx, client.clientId, seconds(revokedAt) + 1)).toBe(false);
  });

  test('the token-issuer\'s own projector rebuilds the watermark from the log', async () => {
    const { client } = await register();
    const { revokedAt } = await management.revokeTokens(ctx, client.clientId);
    await runner.stop();
    await projections.clear();
    runner = new ProjectionRunner(TOKEN_ISSUER_CHECKPOINT, tokenIssuerProjections, store, projections, silent);
    await runner.start();
    expect(await projections.get(`client-watermark:default:${client.clientId}`)).toEqual({ revokedThrough: seconds(revokedAt), deleted: false });
  });

  test('revoking the tokens of an unknown client is refused and appends nothing', async () => {
    const before = (await store.readAll()).length;
    await expect(management.revokeTokens(ctx, 'no-such-client')).rejects.toMatchObject({ code: 'invalid_request' });
    expect((await store.readAll()).length).toBe(before);
  });
});

/**
 * Distributed, each backend keeps its projections in its own namespace (README, "Security"): the
 * client-registry writes the watermark through into its own, and the token-issuer reads it
 * there, read-only. Shown with a token-issuer whose projector is live but has not seen the
 * revocation yet (it follows a log that does not have it): the registry's namespace alone
 * makes the token refused at the very next request.
 */
describe('client watermark across namespaces (client-registry writes its own, token-issuer reads it)', () => {
  test('a watermark written through by the client-registry refuses at once, before the token-issuer\'s projector has it', async () => {
    const store = new InMemoryEventStore();
    const registryProjections = new InMemoryProjectionStore();
    const issuerProjections = new InMemoryProjectionStore();
    const behind = new ProjectionRunner(TOKEN_ISSUER_CHECKPOINT, tokenIssuerProjections, new InMemoryEventStore(), issuerProjections, silent);
    await behind.start();
    try {
      const clock = new Date('2026-06-01T12:00:00.250Z');
      const registry = new ClientRegistryApp({ store, projections: registryProjections });
      const management = new ClientManagementApp({ store, projections: registryProjections, clock: () => clock });
      const { client } = (await registry.register(ctx, { redirect_uris: ['https://rp.example/cb'] })) as { client: { clientId: string } };
      const { revokedAt } = await management.revokeTokens(ctx, client.clientId);

      expect(await issuerProjections.get(`client-watermark:default:${client.clientId}`)).toBeUndefined();
      const deps = { store, projections: issuerProjections, projectionFreshness: behind };
      // Without the registry's namespace, the current (but behind) projection would let it pass.
      expect(await refusedByClientWatermark(deps, ctx, client.clientId, seconds(revokedAt))).toBe(false);
      expect(await refusedByClientWatermark({ ...deps, clientWatermarks: registryProjections }, ctx, client.clientId, seconds(revokedAt))).toBe(true);
      expect(await refusedByClientWatermark({ ...deps, clientWatermarks: registryProjections }, ctx, client.clientId, seconds(revokedAt) + 1)).toBe(false);
    } finally {
      await behind.stop();
    }
  });
});
