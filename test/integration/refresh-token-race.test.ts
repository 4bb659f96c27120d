import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { verifyAccessToken } from '../../services/token-issuer/app/access-token.js';
import { grantTokens } from '../../services/token-issuer/app/grants/index.js';
import { parseRefreshToken } from '../../services/token-issuer/app/refresh-tokens.js';
import { startNats, type TestServer } from '../support/servers.js';
import { confidentialClient, redeemedGrant, testCtx, tokenIssuerOver } from '../support/token-issuer-under-test.js';

/**
 * Races on one refresh token against the real stores (issue 8): 100 concurrent uses rotate it
 * exactly once; the other 99 are invalid_grant, and the grant ends revoked as reuse, every token
 * of it dead. The event store's expected-version append is what decides, on every adapter.
 */
const USES = 100;

let nats: TestServer | undefined;
afterAll(async () => {
  await nats?.stop();
});

const stores: Array<[string, () => Promise<{ store: EventStore; cleanup: () => Promise<void> }>]> = [
  ['in-memory', async () => ({ store: new InMemoryEventStore(), cleanup: async () => {} })],
  [
    'SQLite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'refresh-race-'));
      const store = SqliteEventStore.open(path.join(dir, 'log.db'));
      return { store, cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'JetStream',
    async () => {
      nats ??= await startNats();
      const run = randomBytes(4).toString('hex');
      const store = await JetStreamEventStore.connect(nats.url, { streamName: `REFRESH_RACE_${run}`, subjectPrefix: `refresh-race.${run}` });
      return { store, cleanup: async () => {} };
    },
  ],
];

describe.each(stores)('refresh token races (%s log)', (_name, open) => {
  let store: EventStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ store, cleanup } = await open());
  }, 60_000);
  afterEach(async () => {
    await store.close();
    await cleanup();
  });

  it(`${USES} concurrent uses of one refresh token: exactly one rotation, the rest invalid_grant, the grant revoked as reuse`, async () => {
    const deps = tokenIssuerOver(store);
    const client = confidentialClient();
    const first = await redeemedGrant(deps, client);
    const refreshToken = first.refresh_token!;
    const grantId = parseRefreshToken(refreshToken)!.grantId;

    const outcomes = await Promise.allSettled(
      Array.from({ length: USES }, () => grantTokens(deps, testCtx(client.clientId), client, { grantType: 'refresh_token', resources: [], refreshToken })),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(USES - 1);
    for (const loss of lost) expect(loss.reason).toMatchObject({ code: 'invalid_grant' });

    const log = await store.readAll();
    const ofGrant = log.filter((e) => (e.data as { grantId?: string }).grantId === grantId);
    expect(ofGrant.filter((e) => e.type === 'refresh_token.rotated')).toHaveLength(1);
    expect(ofGrant.filter((e) => e.type === 'refresh_token.reuse_detected')).toHaveLength(1);
    expect(ofGrant.filter((e) => e.type === 'grant.revoked').map((e) => (e.data as { reason: string }).reason)).toEqual(['refresh_token_reuse']);

    // The whole lineage is dead: the first access token, the winner's, and the winner's refresh token.
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof grantTokens>>>).value;
    expect(await verifyAccessToken(deps, testCtx(), first.access_token)).toBeUndefined();
    expect(await verifyAccessToken(deps, testCtx(), winner.access_token)).toBeUndefined();
    await expect(grantTokens(deps, testCtx(client.clientId), client, { grantType: 'refresh_token', resources: [], refreshToken: winner.refresh_token! })).rejects.toMatchObject({
      code: 'invalid_grant',
    });
  }, 120_000);

  it('with a grace window, two uses at once get the same successor and the grant lives; a third use is reuse', async () => {
    const deps = tokenIssuerOver(store);
    const client = confidentialClient({ refreshTokenReuseGraceSeconds: 30 });
    const first = await redeemedGrant(deps, client);
    const use = (refreshToken: string) => grantTokens(deps, testCtx(client.clientId), client, { grantType: 'refresh_token', resources: [], refreshToken });
    const [a, b] = await Promise.all([use(first.refresh_token!), use(first.refresh_token!)]);
    expect(a.refresh_token).toBe(b.refresh_token);
    expect(a.access_token).not.toBe(b.access_token);
    expect(await verifyAccessToken(deps, testCtx(), b.access_token)).toBeDefined();
    // The window hands the successor out again once: a thief replaying the old token gets nothing more.
    await expect(use(first.refresh_token!)).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(await verifyAccessToken(deps, testCtx(), a.access_token)).toBeUndefined();
  }, 120_000);
});
