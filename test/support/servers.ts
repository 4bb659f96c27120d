import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test servers, found in this order (README, "Tests"): the URL in the environment; else the
 * binary from PATH, spawned on a free loopback port in a temp dir and stopped afterwards; else a
 * container when a Docker engine answers; else a failure that says what to install.
 */
export interface TestServer {
  url: string;
  /** How it was provided, for messages. */
  source: 'env' | 'spawned' | 'container';
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const onPath = (binary: string) => spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;

export async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not listen on ${port} within ${timeoutMs} ms:\n${output()}`);
}

async function spawnServer(
  binary: string,
  args: (port: number, dir: string) => string[],
  scheme: string,
  /** A directory the caller owns (kept at stop); a temp dir removed at stop by default. */
  ownDir?: string,
): Promise<TestServer> {
  const dir = ownDir ?? mkdtempSync(join(tmpdir(), `${binary}-`));
  const removeDir = () => {
    if (!ownDir) rmSync(dir, { recursive: true, force: true });
  };
  const port = await freePort();
  const child = spawn(binary, args(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    await waitForPort(port, child, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    removeDir();
    throw error;
  }
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    source: 'spawned',
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      removeDir();
    },
  };
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function container(image: string, port: number, command: string[], scheme: string): Promise<TestServer> {
  const { GenericContainer } = await import('testcontainers');
  const started = await new GenericContainer(image).withCommand(command).withExposedPorts(port).start();
  return {
    url: `${scheme}://${started.getHost()}:${started.getMappedPort(port)}`,
    source: 'container',
    async stop() {
      await started.stop();
    },
  };
}

/**
 * NATS with JetStream. `storeDir`: JetStream's storage directory (`-sd`), owned by the caller and
 * left in place at stop (a temp dir removed at stop by default); only for a spawned server.
 */
export async function startNats(options: { storeDir?: string } = {}): Promise<TestServer> {
  if (options.storeDir !== undefined && !onPath('nats-server')) throw new Error('a JetStream storage directory needs nats-server on PATH');
  if (process.env.NATS_URL && options.storeDir === undefined) return { url: process.env.NATS_URL, source: 'env', stop: async () => {} };
  if (onPath('nats-server')) {
    return spawnServer('nats-server', (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], 'nats', options.storeDir);
  }
  if (await dockerAnswers()) return container('nats:2.10', 4222, ['-js'], 'nats');
  throw new Error(
    'NATS is needed: install nats-server (Debian: apt-get install -y nats-server), or set NATS_URL, or run a Docker engine',
  );
}

/**
 * nats-server (from PATH) with a configuration file: `config(port, storeDir)` returns its text,
 * written 0600 into the server's temp dir. For the distributed topology, whose NATS must run with
 * the generated NKey users and permissions (infra/deploy/distributed-config.ts): a NATS_URL from
 * the environment or a container cannot be configured so, hence PATH only.
 */
export async function startConfiguredNats(config: (port: number, storeDir: string) => string): Promise<TestServer> {
  if (!onPath('nats-server')) {
    throw new Error('nats-server is needed on PATH for the authenticated distributed tests (Debian: apt-get install -y nats-server)');
  }
  return spawnServer(
    'nats-server',
    (port, dir) => {
      const file = join(dir, 'nats-server.conf');
      writeFileSync(file, config(port, join(dir, 'jetstream')), { mode: 0o600 });
      return ['-c', file];
    },
    'nats',
  );
}

export interface RedisServerOptions {
  /** An ACL file (redis.conf `aclfile`): the server is then always spawned from PATH, never REDIS_URL's. */
  aclFile?: string;
  /** More redis-server arguments, e.g. ['--tls-port', …]. Like `aclFile`, they need a spawned server. */
  extraArgs?: string[];
}

export async function startRedis(options: RedisServerOptions = {}): Promise<TestServer> {
  const configured = options.aclFile !== undefined || (options.extraArgs?.length ?? 0) > 0;
  if (process.env.REDIS_URL && !configured) return { url: process.env.REDIS_URL, source: 'env', stop: async () => {} };
  if (onPath('redis-server')) {
    return spawnServer(
      'redis-server',
      (port, dir) => [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
        ...(options.aclFile === undefined ? [] : ['--aclfile', options.aclFile]),
        ...(options.extraArgs ?? []),
      ],
      'redis',
    );
  }
  if (configured) throw new Error('a Redis with an ACL file or extra arguments is spawned from PATH: install redis-server (Debian: apt-get install -y redis-server)');
  if (await dockerAnswers()) return container('redis:7', 6379, ['redis-server'], 'redis');
  throw new Error(
    'Redis is needed: install redis-server (Debian: apt-get install -y redis-server), or set REDIS_URL, or run a Docker engine',
  );
}

/**
 * KurrentDB cannot be installed from Debian's packages: it runs from EVENTSTORE_URL or in a
 * container. Returns null when neither is available, and the caller says so loudly.
 */
export async function startKurrentDb(): Promise<TestServer | null> {
  if (process.env.EVENTSTORE_URL) return { url: process.env.EVENTSTORE_URL, source: 'env', stop: async () => {} };
  if (await dockerAnswers()) {
    const { GenericContainer, Wait } = await import('testcontainers');
    const started = await new GenericContainer('docker.kurrent.io/kurrent-latest/kurrentdb:latest')
      .withEnvironment({ KURRENTDB_INSECURE: 'true', KURRENTDB_RUN_PROJECTIONS: 'None', KURRENTDB_MEM_DB: 'true' })
      .withExposedPorts(2113)
      .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204))
      .start();
    return {
      url: `kurrentdb://${started.getHost()}:${started.getMappedPort(2113)}?tls=false`,
      source: 'container',
      async stop() {
        await started.stop();
      },
    };
  }
  return null;
}
