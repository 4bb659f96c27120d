import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { v7 } from 'uuid';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { sha256Hex } from '../../infra/crypto/secrets.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { eventHash } from '../../services/shared/app/event-hash.js';
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
      tokenIssuerKeyPrefix: 'idp:proj:', // the one store of the embedded mode
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
            tokens: { accessTokenIdHash: sha256Hex('unused'), accessTokenExpiresAt: new Date(now.getTime() + 60_000).toISOString(), refreshToken: null },
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

describe('a poison event in the log (embedded)', () => {
  it('the server still starts, not ready, naming the projection and the position where it stopped; it does not spin', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-poison-'));
    // A log written before metadata was validated: a client registration whose traceparent the
    // contract refuses, as an unchecked bus caller could once get appended.
    const store = SqliteEventStore.open(path.join(dataDir, 'idp.db'));
    const metadata = {
      eventId: v7(),
      time: new Date().toISOString(),
      tenant: 'default',
      correlationId: 'old-caller',
      causationId: null,
      actor: { kind: 'system', id: 'registration' },
      service: 'client-registry',
      traceparent: 'not-a-traceparent',
      previousHash: null,
    };
    const data = {
      clientId: 'poisoned-client',
      applicationType: 'web',
      redirectUris: ['https://rp.example.test/cb'],
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
      tokenEndpointAuthMethod: 'none',
      secretHash: null,
      scope: 'openid',
      idTokenSignedResponseAlg: 'RS256',
    };
    const body = { type: 'client.registered', schemaVersion: 1, data, metadata };
    const [poison] = (await store.append('client-default-poisoned-client', [{ ...body, hash: eventHash(body) }], 'no_stream')).events;
    await store.close();

    const server = await startEmbeddedProcess({ dataDir, env: { IDP_DEMO: 'off' }, waitFor: 'listening' });
    try {
      const ready = await fetch(`${server.issuer}/readyz`);
      expect(ready.status).toBe(503);
      const { checks } = (await ready.json()) as { checks: Record<string, string> };
      expect(checks.followers).toContain(`client-registry stopped at position ${poison!.position}`);
      const metrics = await (await fetch(`${server.issuer}/metrics`)).text();
      expect(metrics).toMatch(/idp_follower_state\{follower="client-registry"\} 4$/m); // failed
      expect(metrics).toMatch(/idp_follower_failures_total\{follower="client-registry",kind="poison"\} 1$/m);
      expect(metrics).toMatch(/idp_follower_state\{follower="authn"\} 2$/m); // the others follow on
      await sleep(1000);
      const lines = server.logs().split('\n').filter((line) => line.includes('poison event'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 50, projector: 'client-registry', position: poison!.position, streamName: 'client-default-poisoned-client' });
    } finally {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
