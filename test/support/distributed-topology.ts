import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RegisterUser } from '../../contracts/messages/authn.js';
import type { RequestOf } from '../../contracts/messages/define.js';
import { NatsBus } from '../../infra/bus/nats.js';
import { call } from '../../infra/bus/typed.js';
import { TEST_REGISTRATION_RATE } from './embedded-process.js';
import { freePort, startConfiguredNats, startNats, startRedis, type TestServer } from './servers.js';
import { generateSecrets, natsServerConfig, redisAclFileText, serviceEnv, type DistributedSecrets } from '../../infra/deploy/distributed-config.js';
import { natsConnectionOptions, type NatsConnectionOptions } from '../../infra/bus/nats-connection-options.js';
import type { NatsIdentity } from '../../infra/bus/permissions.js';

/**
 * The distributed topology on this machine (DESIGN §8): nats-server with JetStream, redis-server,
 * and each of the four services as its own OS process (`dist/services/<name>/main.js`), talking
 * over NATS, keeping the log in JetStream and projections in Redis. Tests drive it through the
 * gateway exactly as they drive the embedded server.
 *
 * Each service gets the environment `npm run start:distributed` generates (distributed-config.ts),
 * its own NKey seed included. With `secured`, nats-server runs with the generated configuration
 * too (an NKey user per identity, permissions derived from the contracts, anonymous connections
 * refused), and a test that talks to NATS itself connects as an identity with `natsAs(identity)`.
 */
export type ServiceName = 'gateway' | 'authn' | 'client-registry' | 'token-issuer';
const BACKENDS: ServiceName[] = ['client-registry', 'authn', 'token-issuer'];

// Generous: seven engineers' suites share two cores, and a service loads NestJS first.
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 10_000;

export interface DistributedOptions {
  /** Extra environment for every service (e.g. IDP_INITIAL_ACCESS_TOKEN for the gateway). */
  env?: Record<string, string>;
  /** A Redis owned by the test (e.g. one it stops and restarts); one is spawned otherwise. */
  redis?: { url: string };
  /** The bus's nats-server, owned by the test (e.g. one it stops and restarts); one is spawned otherwise. */
  nats?: { url: string };
  /**
   * A second nats-server, owned by the test, for the JetStream log and the data keys
   * (EVENT_STORE_URL, IDP_DATA_KEYS_URL), so the event store can fail apart from the bus. Without
   * it they live on the bus's nats-server.
   */
  eventStore?: { url: string };
  /** A user registered through authn once the services are up (there is no demo seed here). */
  user?: Omit<RequestOf<typeof RegisterUser>, 'ctx'>;
  /**
   * JetStream's storage directory of the nats-server the topology spawns (not of one given as
   * `nats`), owned by the test (to read what NATS keeps on disk; it is left in place at stop); a
   * temp dir removed at stop by default. Needs nats-server on PATH.
   */
  natsStorageDir?: string;
  /** The KEK the services get (base64url, 32 bytes); a random one by default. */
  kek?: string;
  /**
   * nats-server with the configuration `npm run start:distributed` generates: an NKey user per
   * identity, permissions derived from the contracts, anonymous connections refused. Tests that
   * then talk to NATS themselves connect as an identity with `natsAs(identity)`.
   */
  secured?: boolean;
  /** Node flags for every service process (the bench's `--cpu-prof`). */
  nodeFlags?: string[];
}

interface RunningService {
  name: ServiceName;
  child: ChildProcess;
  healthPort: number;
  port?: number;
  output: string[];
  exited: Promise<void>;
}

export interface DistributedTopology {
  issuer: string;
  natsUrl: string;
  /** Where the JetStream log and the data keys live: `natsUrl` unless `eventStore` was given. */
  eventStoreUrl: string;
  redisUrl: string;
  logs(): string;
  /** The connection options of an identity of this deployment (its NKey, inbox prefix): `connect({ servers: natsUrl, ...natsAs('admin') })`. */
  natsAs(identity: NatsIdentity): NatsConnectionOptions;
  /** The deployment's generated secrets (NKey seeds, KEK), for tests of the boundaries. */
  secrets: DistributedSecrets;
  /** Base URL of a running service's /healthz, /readyz and /metrics. */
  healthUrl(name: ServiceName): string;
  /** Process ids of the services started with the topology (replicas and extra gateways aside). */
  pids(): number[];
  /** Stops redis-server (to see readiness fall). */
  stopRedis(): Promise<void>;
  /** SIGKILL, as a crash: no graceful shutdown. */
  kill(name: ServiceName): Promise<void>;
  /** Starts a stopped or killed service again (same ports, same env). */
  restart(name: ServiceName): Promise<void>;
  /** Another gateway process on its own port, sharing nothing but NATS (same public issuer). */
  startExtraGateway(): Promise<{ url: string; stop(): Promise<void> }>;
  /** Another replica of a backend service, in the same queue group as the first. */
  startReplica(name: Exclude<ServiceName, 'gateway'>): Promise<{ stop(): Promise<void> }>;
  stop(): Promise<void>;
}

const mainOf = (name: ServiceName) => fileURLToPath(new URL(`../../services/${name}/main.js`, import.meta.url));

export async function startDistributed(options: DistributedOptions = {}): Promise<DistributedTopology> {
  const secrets = generateSecrets();
  if (options.kek !== undefined) secrets.kek = options.kek;
  // `secured`: nats-server runs with the generated NKey users and permissions, as
  // `npm run start:distributed` runs it. Otherwise it runs open; the services present their NKeys
  // all the same (an open server accepts them without checking).
  const nats: Pick<TestServer, 'url' | 'stop'> = options.nats
    ? { url: options.nats.url, stop: async () => {} }
    : options.secured
      ? await startConfiguredNats((natsPort, storeDir) =>
          natsServerConfig(secrets, { host: '127.0.0.1', port: natsPort, storeDir: options.natsStorageDir ?? storeDir }),
        )
      : await startNats(options.natsStorageDir !== undefined ? { storeDir: options.natsStorageDir } : {});
  const eventStoreUrl = options.eventStore?.url ?? nats.url;
  const redis: Pick<TestServer, 'url' | 'stop'> = options.redis
    ? { url: options.redis.url, stop: async () => {} }
    : await startRedis(options.secured ? { aclFile: writeRedisAclFile(secrets) } : {}).catch(async (error) => {
        await nats.stop();
        throw error;
      });
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const common: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    EVENT_STORE_URL: eventStoreUrl,
    BUS_URL: nats.url,
    PROJECTIONS_URL: redis.url,
    IDP_DATA_KEYS_URL: eventStoreUrl,
    ISSUER: issuer,
    HOST: '127.0.0.1',
    HEALTH_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // Above the JetStream store's 4.5 s to learn an append's outcome (jetstream-publish.ts), and
    // long enough for argon2 on a loaded 2-core box running two suites at once. A killed service
    // is still noticed at once: NATS answers "no responders".
    IDP_REQUEST_TIMEOUT_MS: '8000',
    IDP_SHUTDOWN_TIMEOUT_MS: '8000',
    // The suites register many clients from 127.0.0.1; the limit itself has its own test.
    IDP_REGISTRATION_RATE: TEST_REGISTRATION_RATE,
    ...options.env,
  };
  const natsAs = (identity: NatsIdentity) => natsConnectionOptions(nats.url, { identity, seed: secrets.nats[identity].seed });
  const services = new Map<ServiceName, RunningService>();
  const retired: RunningService[] = [];

  const launch = async (name: ServiceName, ports: { healthPort: number; port?: number }): Promise<RunningService> => {
    const env = {
      ...common,
      // What the generator gives each service: its own NKey seed, the KEK only where needed.
      ...withoutRedisCredentials(serviceEnv(name, secrets, { natsUrl: nats.url, redisUrl: redis.url, issuer }), !options.secured),
      // The log and the data keys may live on a nats-server of their own (options.eventStore).
      EVENT_STORE_URL: eventStoreUrl,
      IDP_DATA_KEYS_URL: eventStoreUrl,
      ...options.env,
      HEALTH_PORT: String(ports.healthPort),
      ...(ports.port ? { PORT: String(ports.port) } : {}),
    };
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), mainOf(name)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout!.setEncoding('utf8').on('data', (c: string) => output.push(c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => output.push(c));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const service: RunningService = { name, child, ...ports, output, exited };
    await waitReady(service);
    return service;
  };

  const stopAll = async () => {
    await Promise.all([...services.values()].map((s) => stopProcess(s)));
    await redis.stop();
    await nats.stop();
  };

  try {
    // All four at once: none needs another to become ready, and on a loaded machine four
    // processes loading at once get there far sooner than one after the other.
    const names = [...BACKENDS, 'gateway' as const];
    const healthPorts = new Set<number>();
    while (healthPorts.size < names.length) {
      const candidate = await freePort();
      if (candidate !== port) healthPorts.add(candidate);
    }
    const started = await Promise.allSettled(
      names.map(async (name, i) => {
        const healthPort = [...healthPorts][i]!;
        services.set(name, await launch(name, name === 'gateway' ? { healthPort, port } : { healthPort }));
      }),
    );
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    if (options.user) await registerUser(nats.url, natsAs('admin'), options.user);
  } catch (error) {
    await stopAll();
    throw error;
  }

  return {
    issuer,
    natsAs,
    secrets,
    natsUrl: nats.url,
    eventStoreUrl,
    redisUrl: redis.url,
    logs: () => [...retired, ...services.values()].map((s) => `--- ${s.name} ---\n${s.output.join('')}`).join('\n'),
    healthUrl(name) {
      const service = services.get(name);
      if (!service) throw new Error(`${name} is not running`);
      return `http://127.0.0.1:${service.healthPort}`;
    },
    pids: () => [...services.values()].map((s) => s.child.pid!),
    stopRedis: () => redis.stop(),
    async kill(name) {
      const service = services.get(name);
      if (!service) throw new Error(`${name} is not running`);
      service.child.kill('SIGKILL');
      await service.exited;
      retired.push(service);
      services.delete(name);
    },
    async restart(name) {
      const old = services.get(name);
      if (old) {
        await stopProcess(old);
        retired.push(old);
      }
      const previous = old ?? [...retired].reverse().find((s) => s.name === name);
      if (!previous) throw new Error(`${name} never ran`);
      services.set(name, await launch(name, { healthPort: previous.healthPort, ...(previous.port ? { port: previous.port } : {}) }));
    },
    async startExtraGateway() {
      const extraPort = await freePort();
      const extra = await launch('gateway', { healthPort: await freePort(), port: extraPort });
      retired.push(extra);
      return { url: `http://127.0.0.1:${extraPort}`, stop: () => stopProcess(extra) };
    },
    async startReplica(name) {
      const replica = await launch(name, { healthPort: await freePort() });
      retired.push(replica);
      return { stop: () => stopProcess(replica) };
    },
    stop: stopAll,
  };
}

async function waitReady(service: RunningService): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null || service.child.signalCode !== null) {
      throw new Error(`${service.name} exited before it was ready:\n${service.output.join('')}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${service.healthPort}/readyz`);
      last = `${response.status} ${await response.text()}`;
      if (response.status === 200) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  service.child.kill('SIGKILL');
  throw new Error(`${service.name} not ready within ${READY_TIMEOUT_MS} ms (last: ${last}):\n${service.output.join('')}`);
}

async function stopProcess(service: RunningService): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) {
    service.child.kill('SIGTERM');
    const killer = setTimeout(() => service.child.kill('SIGKILL'), STOP_GRACE_MS);
    await service.exited;
    clearTimeout(killer);
  }
}

async function registerUser(
  natsUrl: string,
  admin: NatsConnectionOptions,
  user: Omit<RequestOf<typeof RegisterUser>, 'ctx'>,
): Promise<void> {
  // Registering users is the admin's (the `idp` command line's) to do.
  const bus = await NatsBus.connect(natsUrl, { name: 'test-admin', connection: admin });
  try {
    await call(bus, RegisterUser, {
      ctx: { tenant: 'default', correlationId: 'test-seed', causationId: null, actor: { kind: 'admin', id: 'test' } },
      ...user,
    });
  } finally {
    await bus.close();
  }
}

/** The generated Redis ACL file of a secured topology, 0600 in a temp dir of its own. */
function writeRedisAclFile(secrets: DistributedSecrets): string {
  const dir = mkdtempSync(join(tmpdir(), 'idp-redis-acl-'));
  const file = join(dir, 'users.acl');
  writeFileSync(file, redisAclFileText(secrets), { mode: 0o600 });
  return file;
}

/** An open Redis (no ACL file) knows no user but the default one: the services then send no credentials. */
function withoutRedisCredentials(env: Record<string, string>, strip: boolean): Record<string, string> {
  if (!strip) return env;
  const { IDP_REDIS_USERNAME: _user, IDP_REDIS_PASSWORD: _password, ...rest } = env;
  return rest;
}
