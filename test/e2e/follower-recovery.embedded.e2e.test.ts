import fs from 'node:fs';
import path from 'node:path';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { sha256Hex } from '../../infra/crypto/secrets.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { decideOnGrant, splitGrantSecret } from '../../services/token-issuer/app/grant-stream.js';
import { startEmbeddedProcess } from '../support/embedded-process.js';
import { startRestartableRedis } from '../support/restartable-redis.js';
import { MAX_LAG_MS, USER, describeFollowerRecovery } from './suites/follower-recovery.suite.js';

/**
 * The embedded server with its projections in Redis (PROJECTIONS_URL=redis://…). The replay is
 * appended by a second writer on the same SQLite file (as the `idp` command line will), through
 * the token-issuer's own grant command: the server sees it only by following the log.
 */
describeFollowerRecovery(
  'embedded',
  async (redis) => {
    const server = await startEmbeddedProcess({
      env: {
        PROJECTIONS_URL: redis.url,
        IDP_FOLLOWER_MAX_LAG_MS: String(MAX_LAG_MS),
        IDP_DEMO_USERNAME: USER.username,
        IDP_DEMO_PASSWORD: USER.password,
      },
    });
    return {
      issuer: server.issuer,
      readyzUrls: () => [`${server.issuer}/readyz`],
      prepareReplay: async (code, clientId, redirectUri) => async () => {
        const parts = splitGrantSecret(code);
        if (!parts) throw new Error(`not a code: ${code}`);
        const store = SqliteEventStore.open(path.join(server.dataDir, 'idp.db'));
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
            tokens: { accessTokenIdHash: sha256Hex('unused'), accessTokenExpiresAt: new Date(now.getTime() + 60_000).toISOString() },
          });
          expect(decision.rejection?.code).toBe('invalid_grant');
          expect(decision.events.map((e) => e.type)).toEqual(['authorization_code.replay_detected', 'grant.revoked']);
        } finally {
          await store.close();
        }
      },
      pids: () => [server.pid],
      logs: server.logs,
      async stop() {
        await server.stop();
        fs.rmSync(server.dataDir, { recursive: true, force: true });
      },
    };
  },
  startRestartableRedis,
);
