import fs from 'node:fs';
import type { ProfileClaims } from '../../contracts/profile-claims.js';
import { DEMO_USER_CLAIMS } from '../../services/embedded/demo-seed.js';
import path from 'node:path';
import { startDistributed, type DistributedTopology } from './distributed-topology.js';
import type { NatsConnectionOptions } from '../../infra/bus/nats-connection-options.js';
import type { NatsIdentity } from '../../infra/bus/permissions.js';
import { startEmbeddedProcess } from './embedded-process.js';
import { watchJetStreamLog, watchSqliteLog, type LogWatch } from './log-watch.js';

/**
 * One IdP deployment under test, whatever its topology: the end-to-end suites take a StartIdp
 * and run unchanged against the embedded process and the distributed services.
 */
export interface IdpUnderTest {
  issuer: string;
  logs(): string;
  stop(): Promise<void>;
  /**
   * Watches the deployment's log (the embedded SQLite file, the distributed JetStream stream)
   * from its current end, to see what a request appended; the caller closes it. Both topologies
   * have it (absent only for a server the test did not start).
   */
  watchLog?(): Promise<LogWatch>;
  /** Distributed only: the NATS server (bus, JetStream log, live event stream). */
  natsUrl?: string;
  /** Distributed only: the running processes, for a test that adds gateways or replicas, or kills one. */
  topology?: DistributedTopology;
  /** Distributed only: how an identity of the deployment connects to natsUrl (its NKey, inbox prefix). */
  natsAs?(identity: NatsIdentity): NatsConnectionOptions;
  /** Set when started with one: registration then needs it (and may register `password` clients). */
  initialAccessToken?: string;
  /**
   * How `idp` reaches this deployment: the environment that points it at the log (and, distributed,
   * at Redis as the admin user), and what `rebuild --verify` needs besides to find the live state.
   */
  idp?: { env: Record<string, string>; verifyArgs: string[] };
}

export type StartIdp = (options: {
  /**
   * A user that must exist (the demo user embedded; registered over the bus distributed), with
   * these profile claims (OIDC Core §5.1; default: the demo user's, a name, an email, an address).
   */
  user?: TestUser;
  env?: Record<string, string>;
  /**
   * IDP_INITIAL_ACCESS_TOKEN of the deployment: every registration must present it (open
   * registration is off), and only such registrations may have the `password` grant. Suites
   * that register openly start their own deployment without it.
   */
  initialAccessToken?: string;
}) => Promise<IdpUnderTest>;

export interface TestUser {
  username: string;
  password: string;
  claims?: ProfileClaims;
}

const withInitialAccessToken = (env: Record<string, string> | undefined, token: string | undefined) =>
  token === undefined ? env : { ...env, IDP_INITIAL_ACCESS_TOKEN: token };

export const startEmbeddedIdp: StartIdp = async ({ user, env: given, initialAccessToken }) => {
  const env = withInitialAccessToken(given, initialAccessToken);
  const process = await startEmbeddedProcess({
    env: user
      ? {
          IDP_DEMO_USERNAME: user.username,
          IDP_DEMO_PASSWORD: user.password,
          ...(user.claims ? { IDP_DEMO_CLAIMS: JSON.stringify(user.claims) } : {}),
          ...env,
        }
      : { IDP_DEMO: 'off', ...env },
  });
  return {
    issuer: process.issuer,
    logs: process.logs,
    watchLog: () => watchSqliteLog(path.join(process.dataDir, 'idp.db')),
    idp: { env: { EVENT_STORE_URL: `sqlite:${path.join(process.dataDir, 'idp.db')}`, IDP_DATA_DIR: process.dataDir }, verifyArgs: ['--server', process.issuer] },
    ...(initialAccessToken !== undefined ? { initialAccessToken } : {}),
    async stop() {
      await process.stop();
      fs.rmSync(process.dataDir, { recursive: true, force: true });
    },
  };
};

export const startDistributedIdp: StartIdp = (options) => startDistributedIdpWith(options, { secured: false });

/** The same, with nats-server run as `npm run start:distributed` runs it: NKey users, derived permissions, nobody anonymous. */
export const startSecuredDistributedIdp: StartIdp = (options) => startDistributedIdpWith(options, { secured: true });

const startDistributedIdpWith = async (
  { user, env: given, initialAccessToken }: Parameters<StartIdp>[0],
  { secured }: { secured: boolean },
): ReturnType<StartIdp> => {
  const env = withInitialAccessToken(given, initialAccessToken);
  // With the embedded demo user's claims by default, so both topologies answer userinfo alike.
  const registered = user ? { username: user.username, password: user.password, ...(user.claims ?? DEMO_USER_CLAIMS) } : undefined;
  const topology = await startDistributed({ secured, ...(env ? { env } : {}), ...(registered ? { user: registered } : {}) });
  return {
    issuer: topology.issuer,
    logs: topology.logs,
    stop: topology.stop,
    watchLog: () => watchJetStreamLog(topology.natsUrl, 'IDP_LOG', topology.natsAs('admin')),
    natsUrl: topology.natsUrl,
    topology,
    natsAs: topology.natsAs,
    idp: {
      env: {
        EVENT_STORE_URL: topology.eventStoreUrl,
        IDP_NATS_SEED: topology.secrets.nats.admin.seed,
        PROJECTIONS_URL: topology.redisUrl,
        // An open Redis (not secured) knows only the default user: no credentials then.
        ...(secured ? { IDP_REDIS_PASSWORD: topology.secrets.redis.admin } : {}),
      },
      verifyArgs: [],
    },
    ...(initialAccessToken !== undefined ? { initialAccessToken } : {}),
  };
};
