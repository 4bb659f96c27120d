import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import type { ProjectionStore } from '../../infra/projections/port.js';
import { clientWatermarkKey, type ClientWatermark } from '../../services/shared/projections/client-watermark.js';
import { userWatermarkKey, type UserWatermark } from '../../services/shared/projections/user-watermark.js';
import { verifyAccessToken } from '../../services/token-issuer/app/access-token.js';
import { refusalOf } from '../../services/token-issuer/app/revocation-checks.js';
import { revokeToken } from '../../services/token-issuer/app/revoke.js';
import type { TokenIssuerDeps } from '../../services/token-issuer/app/token-issuer.deps.js';
import { keys } from '../../services/token-issuer/projections/token-issuer.projections.js';
import { confidentialClient, redeemedGrant, testCtx, tokenIssuerOver } from '../support/token-issuer-under-test.js';

/**
 * The revocation checks of a token (revocation-checks.ts, issue 12): the grant, the client's
 * watermark and the user's are looked up at once in the token-issuer's projection and in the two
 * write-through namespaces, as the distributed mode has them (three stores; here in memory, each
 * answer coming a turn of the event loop later, as Redis's would). Each source refuses on its own,
 * and a projection that is not current sends the question to the log.
 */

/** A store whose lookups answer on a later turn, counting the turns in which lookups were sent. */
interface Rounds {
  count: number;
  lookups: string[];
  turnOpen: boolean;
}

function slowStore(rounds: Rounds, name: string): ProjectionStore {
  const inner = new InMemoryProjectionStore();
  const later = <T>(what: string, answer: () => Promise<T>): Promise<T> => {
    rounds.lookups.push(`${name} ${what}`);
    if (!rounds.turnOpen) {
      rounds.turnOpen = true;
      rounds.count++;
      setImmediate(() => (rounds.turnOpen = false));
    }
    return new Promise((resolve, reject) => setImmediate(() => answer().then(resolve, reject)));
  };
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'get') return (key: string) => later(`get ${key.split(':')[0]}`, () => target.get(key));
      if (property === 'checkpoint') return (checkpoint: string) => later('checkpoint', () => target.checkpoint(checkpoint));
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function setUp(current = true) {
  const rounds: Rounds = { count: 0, lookups: [], turnOpen: false };
  const base = tokenIssuerOver(new InMemoryEventStore());
  const deps: TokenIssuerDeps = {
    ...base,
    projections: slowStore(rounds, 'own'),
    clientWatermarks: slowStore(rounds, 'client-registry'),
    userWatermarks: slowStore(rounds, 'authn'),
    projectionFreshness: { current: () => current },
  };
  const client = confidentialClient();
  const tokens = await redeemedGrant(deps, client);
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as { sub: string; iat: number; jti: string };
  rounds.count = 0;
  rounds.lookups.length = 0;
  return { deps, client, tokens, claims, rounds, grantId: claims.jti.split('.')[0]! };
}

const put = (store: ProjectionStore | undefined, key: string, value: unknown) => store!.apply([{ kind: 'put', key, value }], 1, 'test');

it('looks the grant, the client watermark and the user watermark up in one round, over all three stores', async () => {
  const { deps, tokens, rounds } = await setUp();
  await expect(verifyAccessToken(deps, testCtx(), tokens.access_token)).resolves.toMatchObject({ scope: 'openid offline_access profile' });
  expect(rounds.count).toBe(1);
  expect(rounds.lookups.sort()).toEqual(
    [
      'own get grant-revoked',
      'own checkpoint',
      'own get client-watermark',
      'own get user-watermark',
      'client-registry get client-watermark',
      'authn get user-watermark',
    ].sort(),
  );
});

it('refuses for each source on its own: the grant revoked, either client watermark, either user watermark', async () => {
  const ctx = testCtx();
  // [source, how it refuses, the refusal, the refusal of what began a second after the token]
  const cases: Array<[string, (s: Awaited<ReturnType<typeof setUp>>) => Promise<void>, string, string | null]> = [
    ['grant revoked', (s) => put(s.deps.projections, keys.grantRevoked(ctx.tenant, s.grantId), 'revocation_request'), 'grant_revoked', 'grant_revoked'],
    ['client tokens revoked (own projection)', (s) => put(s.deps.projections, clientWatermarkKey(ctx.tenant, s.client.clientId), { revokedThrough: s.claims.iat, deleted: false } satisfies ClientWatermark), 'client_watermark', null],
    ['client deleted (written through)', (s) => put(s.deps.clientWatermarks, clientWatermarkKey(ctx.tenant, s.client.clientId), { revokedThrough: 0, deleted: true } satisfies ClientWatermark), 'client_watermark', 'client_watermark'],
    ['user disabled (own projection)', (s) => put(s.deps.projections, userWatermarkKey(ctx.tenant, s.claims.sub), { revokedThrough: 0, refusesAll: 'disabled' } satisfies UserWatermark), 'user_watermark', 'user_watermark'],
    ['user enabled again (written through)', (s) => put(s.deps.userWatermarks, userWatermarkKey(ctx.tenant, s.claims.sub), { revokedThrough: s.claims.iat, refusesAll: null } satisfies UserWatermark), 'user_watermark', null],
  ];
  for (const [name, revoke, refusal, refusalOfLater] of cases) {
    const s = await setUp();
    const question = { grantId: s.grantId, clientId: s.client.clientId, user: { sub: s.claims.sub, clientId: s.client.clientId }, began: s.claims.iat };
    await expect(refusalOf(s.deps, ctx, question)).resolves.toBeNull();
    await revoke(s);
    await expect(refusalOf(s.deps, ctx, question)).resolves.toBe(refusal);
    await expect(verifyAccessToken(s.deps, ctx, s.tokens.access_token)).resolves.toBeUndefined();
    // A watermark refuses what began up to it; a revoked grant, a deleted client or a disabled user refuse whatever the time.
    await expect(refusalOf(s.deps, ctx, { ...question, began: s.claims.iat + 1 })).resolves.toBe(refusalOfLater);
  }
});

it('asks no user watermark of a client credentials token (its sub is the client)', async () => {
  const { deps, client, rounds } = await setUp();
  await expect(refusalOf(deps, testCtx(), { clientId: client.clientId, user: { sub: client.clientId, clientId: client.clientId }, began: 0 })).resolves.toBeNull();
  expect(rounds.lookups.filter((lookup) => lookup.includes('user-watermark'))).toEqual([]);
});

it('sends the question to the log when the projection is not current: a revocation it has not projected still refuses', async () => {
  const { deps, tokens, grantId, client } = await setUp(false);
  // Nothing projected, projection not current: the grant's stream decides (live here).
  await expect(verifyAccessToken(deps, testCtx(), tokens.access_token)).resolves.toBeDefined();
  // Revoke in the log only (no projector runs in this test).
  await revokeToken({ ...deps, projections: new InMemoryProjectionStore() }, testCtx(client.clientId), client, tokens.refresh_token!);
  await expect(deps.projections.get(keys.grantRevoked('default', grantId))).resolves.toBeUndefined();
  await expect(refusalOf(deps, testCtx(), { grantId, began: 0 })).resolves.toBe('grant_revoked');
  await expect(verifyAccessToken(deps, testCtx(), tokens.access_token)).resolves.toBeUndefined();
});
