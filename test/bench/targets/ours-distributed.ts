import { randomBytes } from 'node:crypto';
import { RegisterUser } from '../../../contracts/messages/authn.js';
import { NatsBus } from '../../../infra/bus/nats.js';
import { call } from '../../../infra/bus/typed.js';
import { startDistributed, type DistributedTopology } from '../../support/distributed-topology.js';
import type { HttpClient } from '../http.js';
import type { Pinning } from '../pinning.js';
import { childPidsOf } from '../server-cpu.js';
import { oursTarget } from './ours-target.js';
import type { BenchUser, Target } from './target.js';

/**
 * Our distributed mode as `npm run start:distributed` deploys it (DESIGN §8): gateway, authn,
 * client-registry and token-issuer as four processes, nats-server with JetStream (the log and
 * the data keys) and the generated NKey users and permissions, redis-server with its ACL for the
 * projections. All of them on the server core, the same one core the embedded server gets, so
 * that the two compare (issue 12: distributed ≥ 50 % of embedded). Needs nats-server and
 * redis-server on PATH. The bench's users are registered through authn by the admin identity.
 */
export async function startOursDistributed(options: { pinning: Pinning; http: HttpClient; users: BenchUser[]; nodeFlags?: string[] }): Promise<Target> {
  const initialAccessToken = randomBytes(24).toString('base64url');
  const { topology, pids } = await options.pinning.spawningOnServerCore(async () => {
    const topology = await startDistributed({
      secured: true,
      env: { IDP_INITIAL_ACCESS_TOKEN: initialAccessToken, IDP_REGISTRATION_RATE: '1000000/minute', LOG_LEVEL: 'warn' },
      // BENCH_PROFILE=1: each service writes its own CPU profile when it stops.
      ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
    });
    // Every process of the deployment is a child of this one: the four services, nats-server, redis-server.
    return { topology, pids: childPidsOf(process.pid) };
  });
  try {
    await registerUsers(topology, options.users);
  } catch (error) {
    await topology.stop();
    throw error;
  }
  return oursTarget(
    { name: 'ours-distributed', issuer: topology.issuer, initialAccessToken, pids: () => pids, logs: topology.logs, stop: () => topology.stop() },
    options.http,
  );
}

async function registerUsers(topology: DistributedTopology, users: BenchUser[]): Promise<void> {
  const bus = await NatsBus.connect(topology.natsUrl, { name: 'bench-admin', connection: topology.natsAs('admin') });
  try {
    const ctx = { tenant: 'default', correlationId: `bench-seed-${Date.now()}`, causationId: null, actor: { kind: 'admin' as const, id: 'bench' } };
    for (const user of users) {
      await call(bus, RegisterUser, { ctx, username: user.username, password: user.password, name: user.username }, { timeoutMs: 30_000 });
    }
  } finally {
    await bus.close();
  }
}
