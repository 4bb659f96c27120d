import { GetClient } from '../../contracts/messages/client-registry.js';
import { GrantTokens } from '../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { NatsBus } from '../../infra/bus/nats.js';
import { call } from '../../infra/bus/typed.js';
import { redisKeyPrefix } from '../../infra/projections/redis-acl.js';
import { startDistributed } from '../support/distributed-topology.js';
import { startRestartableRedis } from '../support/restartable-redis.js';
import { MAX_LAG_MS, USER, describeFollowerRecovery } from './suites/follower-recovery.suite.js';

/**
 * The four services over NATS with their projections in a Redis the test stops and empties. The
 * replay goes to the token-issuer over the bus, so its own write-through fails (Redis is down)
 * and its projector must catch up on it.
 */
const ctx = (id: string) => ({ tenant: 'default', correlationId: `test-${id}`, causationId: null, actor: { kind: 'system' as const, id: 'test' } });

describeFollowerRecovery(
  'distributed',
  async (redis) => {
    const topology = await startDistributed({ redis, user: USER, env: { IDP_FOLLOWER_MAX_LAG_MS: String(MAX_LAG_MS) } });
    const bus = await NatsBus.connect(topology.natsUrl, { name: 'test-gateway' });
    return {
      issuer: topology.issuer,
      tokenIssuerKeyPrefix: redisKeyPrefix('token-issuer'),
      readyzUrls: () => (['gateway', 'authn', 'client-registry', 'token-issuer'] as const).map((name) => `${topology.healthUrl(name)}/readyz`),
      async prepareReplay(code, clientId, redirectUri) {
        // The client is resolved while Redis is up, as the gateway had it for the first redemption.
        const { client } = await call(bus, GetClient, { ctx: ctx('get-client'), clientId });
        if (!client) throw new Error(`client ${clientId} unknown`);
        return async () => {
          const grant = { grantType: 'authorization_code' as const, code, redirectUri };
          const error = await call(bus, GrantTokens, { ctx: ctx('replay'), client, grant }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(OAuthError);
          expect((error as OAuthError).code).toBe('invalid_grant');
        };
      },
      pids: () => topology.pids(),
      logs: topology.logs,
      async stop() {
        await bus.close();
        await topology.stop();
      },
    };
  },
  startRestartableRedis,
);
