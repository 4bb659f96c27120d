import type { RequestContext } from '../../contracts/events/metadata.js';
import { sha256Hex } from '../../infra/crypto/secrets.js';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { redisKeyPrefix } from '../../infra/projections/redis-acl.js';
import { decideOnGrant, splitGrantSecret } from '../../services/token-issuer/app/grant-stream.js';
import { startDistributed } from '../support/distributed-topology.js';
import { startRestartableRedis } from '../support/restartable-redis.js';
import { MAX_LAG_MS, USER, describeFollowerRecovery } from './suites/follower-recovery.suite.js';

/**
 * The four services over NATS with their projections in a Redis the test stops and empties. The
 * replay is appended to the JetStream log by a second writer, through the token-issuer's own
 * grant command (as in the embedded variant): with Redis down, no bus request could do it, since
 * the token-issuer has client-registry (which reads Redis) authenticate every token request's
 * client. The services see the replay only by following the log.
 */

describeFollowerRecovery(
  'distributed',
  async (redis) => {
    const topology = await startDistributed({ redis, user: USER, env: { IDP_FOLLOWER_MAX_LAG_MS: String(MAX_LAG_MS) } });
    return {
      issuer: topology.issuer,
      tokenIssuerKeyPrefix: redisKeyPrefix('token-issuer'),
      readyzUrls: () => (['gateway', 'authn', 'client-registry', 'token-issuer'] as const).map((name) => `${topology.healthUrl(name)}/readyz`),
      async prepareReplay(code, clientId, redirectUri) {
        const parts = splitGrantSecret(code);
        if (!parts) throw new Error(`not a code: ${code}`);
        const store = await JetStreamEventStore.connect(topology.natsUrl);
        return async () => {
          const ctx: RequestContext = { tenant: 'default', correlationId: 'test-replay', causationId: null, actor: { kind: 'client', id: clientId } };
          try {
            const now = new Date();
            const { decision } = await decideOnGrant({ store, projections: new InMemoryProjectionStore(), clock: () => now }, ctx, parts.grantId, {
              type: 'redeem_code',
              codeHash: sha256Hex(parts.secret),
              clientId,
              redirectUri,
              codeVerifierS256: undefined,
              now,
              tokens: { accessTokenIdHash: sha256Hex('unused'), accessTokenExpiresAt: new Date(now.getTime() + 60_000).toISOString(), refreshToken: null },
            });
            expect(decision.rejection?.code).toBe('invalid_grant');
            expect(decision.events.map((e) => e.type)).toEqual(['authorization_code.replay_detected', 'grant.revoked']);
          } finally {
            await store.close();
          }
        };
      },
      pids: () => topology.pids(),
      logs: topology.logs,
      stop: () => topology.stop(),
    };
  },
  startRestartableRedis,
);
