/**
 * `npm run start:distributed`: the distributed mode on one machine, configured as production
 * should be (README, "Distributed mode" and "Security"). On first run it generates the NKeys, the
 * KEK and the nats-server configuration into `./data/distributed/` (all 0600; reused on later
 * runs), then starts nats-server and redis-server from PATH with them, then the four services,
 * each with its own NATS identity, prints where everything listens, and stops it all on Ctrl-C.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DISTRIBUTED_SERVICES, writeDistributedConfig, type DistributedService } from '../../infra/deploy/distributed-config.js';
import { parseEnv } from '../shared/adapters/service-config.js';
import { requireBinary, startChild, stopChild, waitForPort, waitReady, type Child } from './processes.js';

const Env = z.object({
  IDP_DISTRIBUTED_DIR: z.string().min(1).default('./data/distributed'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  ISSUER: z.string().url().optional(),
  NATS_PORT: z.coerce.number().int().min(1).max(65535).default(4222),
  REDIS_PORT: z.coerce.number().int().min(1).max(65535).default(6379),
  /** The services' health ports are this and the next three (client-registry, authn, token-issuer, gateway). */
  HEALTH_PORT_BASE: z.coerce.number().int().min(1).max(65532).default(9461),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const LOOPBACK = '127.0.0.1';
const mainOf = (service: DistributedService) => fileURLToPath(new URL(`../${service}/main.js`, import.meta.url));

async function main(): Promise<void> {
  const config = parseEnv(Env, process.env, 'start:distributed');
  requireBinary('nats-server');
  requireBinary('redis-server');

  const issuer = (config.ISSUER ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '');
  const natsUrl = `nats://${LOOPBACK}:${config.NATS_PORT}`;
  const redisUrl = `redis://${LOOPBACK}:${config.REDIS_PORT}`;
  const { layout, created, env } = writeDistributedConfig(config.IDP_DISTRIBUTED_DIR, {
    nats: { host: LOOPBACK, port: config.NATS_PORT },
    services: { natsUrl, redisUrl, issuer, healthHost: LOOPBACK },
  });
  process.stdout.write(`${created ? 'Generated' : 'Reusing'} the configuration and secrets in ${layout.dir}\n`);

  const children: Child[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of [...children].reverse()) await stopChild(child);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  const watch = (child: Child) => {
    children.push(child);
    void child.exited.then((code) => {
      if (stopping) return;
      process.stderr.write(`${child.name} exited (${code}); stopping everything\n`);
      void stopAll(1);
    });
    return child;
  };

  try {
    const nats = watch(startChild('nats', 'nats-server', ['-c', layout.natsConfigFile], process.env));
    await waitForPort(nats, LOOPBACK, config.NATS_PORT);
    const redis = watch(
      startChild(
        'redis',
        'redis-server',
        ['--port', String(config.REDIS_PORT), '--bind', LOOPBACK, '--dir', layout.redisDir, '--appendonly', 'yes', '--aclfile', layout.redisAclFile],
        process.env,
      ),
    );
    await waitForPort(redis, LOOPBACK, config.REDIS_PORT);

    const healthUrls: string[] = [];
    for (const [i, service] of DISTRIBUTED_SERVICES.entries()) {
      const healthPort = config.HEALTH_PORT_BASE + i;
      const child = watch(
        startChild(service, process.execPath, [mainOf(service)], {
          PATH: process.env.PATH,
          LOG_LEVEL: config.LOG_LEVEL,
          ...env[service],
          HEALTH_PORT: String(healthPort),
          ...(service === 'gateway' ? { PORT: String(config.PORT), HOST: config.HOST } : {}),
        }),
      );
      const healthUrl = `http://${LOOPBACK}:${healthPort}`;
      await waitReady(child, healthUrl);
      healthUrls.push(`  ${service.padEnd(16)} ${healthUrl}/readyz  /metrics`);
    }

    process.stdout.write(
      [
        '',
        `IdP ready at ${issuer} (gateway on ${config.HOST}:${config.PORT}; discovery: ${issuer}/.well-known/openid-configuration)`,
        `NATS (JetStream, NKey users only)  ${natsUrl}   config ${layout.natsConfigFile}`,
        `Redis (ACL users only)             ${redisUrl}   data ${layout.redisDir}, users ${layout.redisAclFile}`,
        'Health, readiness and metrics:',
        ...healthUrls,
        `Secrets (NKey seeds, KEK): ${layout.secretsFile}; each service's environment: ${layout.envFile('gateway').replace(/gateway\.env$/, '<service>.env')}`,
        'Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    process.stderr.write(`start:distributed failed: ${(error as Error).message}\n`);
    await stopAll(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
