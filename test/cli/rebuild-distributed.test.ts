import { createClient } from 'redis';
import { EXIT } from '../../services/cli/exit-codes.js';
import { DEMO_USER_CLAIMS } from '../../services/embedded/demo-seed.js';
import { runIdp } from '../support/cli.js';
import { startDistributed, type DistributedTopology } from '../support/distributed-topology.js';
import { runFlowsForSecretsScan } from '../support/secret-flows.js';

/**
 * `idp rebuild --verify` against a distributed deployment after real flows: the JetStream log
 * replayed gives each backend's Redis namespace, read as the read-only `admin` Redis user at a
 * settled checkpoint; a key in Redis that no event explains makes it fail.
 */

interface Row {
  projection: string;
  match?: boolean;
}

const USER = { username: 'rebuild-distributed', password: 'rebuild-distributed-pw-1234' };
const INITIAL_ACCESS_TOKEN = 'rebuild-distributed-initial-token-0123456789';

let topology: DistributedTopology;
const idpEnv = () => ({
  EVENT_STORE_URL: topology.eventStoreUrl,
  IDP_NATS_SEED: topology.secrets.nats.admin.seed,
  PROJECTIONS_URL: topology.redisUrl,
  IDP_REDIS_PASSWORD: topology.secrets.redis.admin,
});

beforeAll(async () => {
  topology = await startDistributed({
    secured: true,
    env: { IDP_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN },
    user: { ...USER, ...DEMO_USER_CLAIMS },
  });
  await runFlowsForSecretsScan({ issuer: topology.issuer, initialAccessToken: INITIAL_ACCESS_TOKEN, user: USER });
}, 180_000);

afterAll(async () => {
  await topology?.stop();
}, 60_000);

describe('idp rebuild --verify, distributed (JetStream log, Redis projections)', () => {
  it('every rebuilt namespace is the live one in Redis', async () => {
    const run = await runIdp(['rebuild', '--verify', '--json'], { env: idpEnv(), timeoutMs: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.ok);
    expect((JSON.parse(run.stdout) as Row[]).map((r) => [r.projection, r.match])).toEqual([
      ['authn', true],
      ['client-registry', true],
      ['token-issuer', true],
    ]);
  }, 120_000);

  it('FAILS (exit 1) on a key in Redis that no event explains, and passes again once it is gone', async () => {
    // The test's own privileged connection: the authn service's Redis user, which may write its namespace.
    const redis = createClient({ url: topology.redisUrl, username: 'authn', password: topology.secrets.redis.authn });
    await redis.connect();
    const stray = '{idp:proj:authn:}k:consent:default:nobody:no-client';
    try {
      await redis.hSet(stray, { p: '1', v: '["openid"]' });
      const run = await runIdp(['rebuild', '--verify', '--projection', 'authn'], { env: idpEnv(), timeoutMs: 120_000 });
      expect(run.code).toBe(EXIT.failed);
      expect(run.stdout).toMatch(/authn .*DIFFERS/);
      expect(run.stderr).toMatch(/differs from the live state \(Redis\): authn/);
    } finally {
      await redis.del(stray);
      await redis.close();
    }
    const again = await runIdp(['rebuild', '--verify', '--projection', 'authn'], { env: idpEnv(), timeoutMs: 120_000 });
    expect(again.code).toBe(EXIT.ok);
  }, 180_000);

  it("the backends' HEALTH_PORT serves their digests too (--server): the same verdict", async () => {
    const servers = (['authn', 'client-registry', 'token-issuer'] as const).map((name) => topology.healthUrl(name));
    const { PROJECTIONS_URL: _redis, IDP_REDIS_PASSWORD: _password, ...env } = idpEnv();
    const run = await runIdp(['rebuild', '--verify', '--json', '--server', ...servers], { env, timeoutMs: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.ok);
    expect((JSON.parse(run.stdout) as Row[]).every((r) => r.match === true)).toBe(true);
  }, 120_000);

  it('a Redis user that may not read the namespaces cannot verify (exit 5), and says why', async () => {
    const run = await runIdp(['rebuild', '--verify'], { env: { ...idpEnv(), IDP_REDIS_PASSWORD: 'not-the-admin-password-at-all' }, timeoutMs: 120_000 });
    expect(run.code).toBe(EXIT.unavailable);
    expect(run.stderr).toMatch(/cannot read the live projections/);
    expect(run.stderr).not.toContain('not-the-admin-password-at-all');
  }, 120_000);
});
