import { setTimeout as sleep } from 'node:timers/promises';
import * as client from 'openid-client';
import { RedisProjectionStore } from '../../../infra/projections/redis.js';
import { keys } from '../../../services/token-issuer/projections/token-issuer.projections.js';
import { Browser } from '../../support/browser.js';
import type { RestartableRedis } from '../../support/restartable-redis.js';

/**
 * Followers recover by themselves (issue 7, item 1), shown on a real deployment whose
 * projections live in a real redis-server that the test stops, starts, and empties, while no
 * process of the IdP is restarted. One suite, run by both topologies that keep projections in
 * Redis: the embedded server with PROJECTIONS_URL=redis://… and the distributed services.
 */
export interface RecoveryDeployment {
  issuer: string;
  /** The Redis key prefix the token-issuer's projections live under (its namespace). */
  tokenIssuerKeyPrefix: string;
  /** Every /readyz of the deployment: the deployment is ready when all answer 200. */
  readyzUrls(): string[];
  /**
   * Prepares (while Redis is up) to redeem `code` a second time; the returned function does it
   * while Redis is down, the way this topology's writers do, so the log gets
   * `authorization_code.replay_detected` and `grant.revoked` while no projection can be written.
   */
  prepareReplay(code: string, clientId: string, redirectUri: string): Promise<() => Promise<void>>;
  /** The operating-system ids of the IdP's processes: unchanged means nothing was restarted. */
  pids(): number[];
  logs(): string;
  stop(): Promise<void>;
}

export const USER = { username: 'recovery-user', password: 'recovery-password-0123456789' };
/** The deployments run with this readiness bound, so that a Redis outage longer than it shows. */
export const MAX_LAG_MS = 1000;
const REDIRECT_URI = 'https://rp.example.test/cb';

export function describeFollowerRecovery(
  topology: string,
  start: (redis: RestartableRedis) => Promise<RecoveryDeployment>,
  openRedis: () => Promise<RestartableRedis>,
): void {
  describe(`followers recover by themselves (${topology}, projections in Redis)`, () => {
    let redis: RestartableRedis;
    let idp: RecoveryDeployment;

    beforeAll(async () => {
      redis = await openRedis();
      idp = await start(redis);
    }, 120_000);

    afterAll(async () => {
      await idp?.stop();
      await redis?.destroy();
    }, 60_000);

    const options = () => ({ execute: [client.allowInsecureRequests] });

    const registerClient = () =>
      client.dynamicClientRegistration(
        new URL(idp.issuer),
        { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile' },
        client.ClientSecretBasic(),
        options(),
      );

    async function obtainCode(config: client.Configuration): Promise<string> {
      const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile', state: client.randomState() });
      const { callback } = await new Browser().authorize(url, { ...USER, consent: 'allow' });
      return callback.searchParams.get('code')!;
    }

    function redeem(config: client.Configuration, code: string): Promise<Response> {
      const { client_id: id, client_secret: secret } = config.clientMetadata();
      return fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(String(secret))}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }).toString(),
      });
    }

    async function tokens(config: client.Configuration): Promise<{ code: string; accessToken: string }> {
      const code = await obtainCode(config);
      const response = await redeem(config, code);
      expect(response.status).toBe(200);
      return { code, accessToken: ((await response.json()) as { access_token: string }).access_token };
    }

    const userinfo = async (accessToken: string) =>
      (await fetch(`${idp.issuer}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).status;

    /** The token-issuer's revocation entry for the grant of `code`, read from Redis itself. */
    async function projectedRevocation(code: string): Promise<unknown> {
      const store = await RedisProjectionStore.connect(redis.url, { keyPrefix: idp.tokenIssuerKeyPrefix });
      try {
        return await store.get(keys.grantRevoked('default', code.split('.')[0]!));
      } finally {
        await store.close();
      }
    }

    async function readiness(): Promise<boolean> {
      const statuses = await Promise.all(
        idp.readyzUrls().map((url) => fetch(url).then((r) => r.status, () => 0)),
      );
      return statuses.every((status) => status === 200);
    }

    async function until(what: string, check: () => Promise<boolean>, withinMs: number): Promise<number> {
      const started = Date.now();
      while (!(await check())) {
        if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms: ${what}\n${idp.logs().slice(-6000)}`);
        await sleep(100);
      }
      return Date.now() - started;
    }

    it('Redis stopped, a revocation appended, Redis started: projected within seconds and the token refused, not ready while lagging, no restart', async () => {
      const config = await registerClient();
      const { code, accessToken } = await tokens(config);
      expect(await userinfo(accessToken)).toBe(200);
      const pids = idp.pids();
      const replay = await idp.prepareReplay(code, config.clientMetadata().client_id, REDIRECT_URI);

      await redis.stop();
      await until('readiness fails while Redis is down', async () => !(await readiness()), 10_000);
      await replay();
      // Longer than the readiness bound: once Redis is back, the projection lags by more than it.
      await sleep(MAX_LAG_MS * 2);
      await redis.start();

      // Ready implies caught up: the first moment the deployment is ready again, the revocation
      // is projected. Both happen within seconds, without any restart.
      const readyAfter = await until('ready again after Redis came back', readiness, 20_000);
      expect(await userinfo(accessToken)).toBe(401);
      // Refused, and not only by the grant stream's word: the revocation is in the projection.
      expect(await projectedRevocation(code)).toBeDefined();
      expect(readyAfter).toBeLessThan(20_000);
      expect(idp.pids()).toEqual(pids);
    }, 90_000);

    it('Redis restarted empty: every client, user and revocation is back within seconds, no process restarted', async () => {
      const clients = await Promise.all(Array.from({ length: 5 }, () => registerClient()));
      const kept = await tokens(clients[0]!);
      const revoked = await tokens(clients[1]!);
      expect((await redeem(clients[1]!, revoked.code)).status).toBe(400); // replay: the grant is revoked
      expect(await userinfo(revoked.accessToken)).toBe(401);
      expect(await userinfo(kept.accessToken)).toBe(200);
      const pids = idp.pids();

      await redis.stop();
      await redis.start({ empty: true });
      // Revocation is the lookup that fails open: not even while the projection is rebuilt may
      // the revoked token pass (the grant's own stream decides until the projection is whole).
      const revokedAnswers = new Set<number>();

      const clientKnown = async (config: client.Configuration) => {
        const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: client.randomState() });
        const page = await fetch(url, { redirect: 'manual' });
        return page.status === 200 && (await page.text()).includes('name="password"');
      };
      await until(
        'every client, the user and the revocation are back',
        async () =>
          // Asked first, on every round, from the moment Redis is back empty.
          (await userinfo(revoked.accessToken).then((status) => (revokedAnswers.add(status), status))) === 401 &&
          (await Promise.all(clients.map(clientKnown))).every(Boolean) &&
          (await userinfo(kept.accessToken)) === 200,
        20_000,
      );
      expect(revokedAnswers.has(200)).toBe(false);
      await until('the revocation is back in the projection', async () => (await projectedRevocation(revoked.code)) !== undefined, 20_000);
      // The user is back too: a whole new login works.
      const again = await tokens(clients[2]!);
      expect(await userinfo(again.accessToken)).toBe(200);
      await until('ready', readiness, 10_000);
      expect(idp.pids()).toEqual(pids);
    }, 90_000);
  });
}
