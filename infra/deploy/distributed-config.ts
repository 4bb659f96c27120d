/**
 * The configuration of a distributed deployment, generated once (README, "Distributed mode" and
 * "Security"): an NKey per NATS identity, the nats-server configuration that knows those keys and
 * grants each the permissions derived from the contracts (infra/bus/permissions.ts), the KEK, and
 * the environment of each service. `npm run start:distributed` writes it into
 * `./data/distributed/`; the distributed tests generate the same into a temp directory, so every
 * distributed test runs with what an operator gets.
 *
 * Every file written here is 0600 in a 0700 directory (the secrets file holds the seeds and the KEK).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createUser, fromSeed } from '@nats-io/nkeys';
import { NATS_IDENTITIES, natsPermissions, natsServerPermissions, type NatsIdentity } from '../bus/permissions.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../files/private-files.js';
import { REDIS_BACKENDS, redisAclFileLines, type RedisAclUserName } from '../projections/redis-acl.js';

/** The four service processes, in the order they are started (the gateway last). */
export const DISTRIBUTED_SERVICES = ['client-registry', 'authn', 'token-issuer', 'gateway'] as const;
export type DistributedService = (typeof DISTRIBUTED_SERVICES)[number];

export interface NKeyUser {
  /** The user seed `SU…`: the secret a process holds as IDP_NATS_SEED. */
  seed: string;
  /** The public key `U…` the server knows the user by. */
  publicKey: string;
}

/** Everything secret of a deployment; kept in `secrets.json` (0600). */
export interface DistributedSecrets {
  version: 1;
  nats: Record<NatsIdentity, NKeyUser>;
  /** The key-encryption key, base64url (IDP_KEK of gateway, authn and token-issuer). */
  kek: string;
  /** The password of each Redis ACL user (IDP_REDIS_PASSWORD); the ACL file holds their SHA-256 only. */
  redis: Record<RedisAclUserName, string>;
}

const REDIS_USERS: readonly RedisAclUserName[] = [...REDIS_BACKENDS, 'admin'];
const newRedisPasswords = () =>
  Object.fromEntries(REDIS_USERS.map((user) => [user, randomBytes(24).toString('base64url')])) as Record<RedisAclUserName, string>;

export function generateSecrets(): DistributedSecrets {
  const nats = Object.fromEntries(
    NATS_IDENTITIES.map((identity) => {
      const user = createUser();
      return [identity, { seed: new TextDecoder().decode(user.getSeed()), publicKey: user.getPublicKey() }];
    }),
  ) as Record<NatsIdentity, NKeyUser>;
  return { version: 1, nats, kek: randomBytes(32).toString('base64url'), redis: newRedisPasswords() };
}

/** Checks a secrets file read back: every identity's seed must give its public key. */
function parseSecrets(text: string, file: string): DistributedSecrets {
  const secrets = JSON.parse(text) as DistributedSecrets;
  for (const identity of NATS_IDENTITIES) {
    const user = secrets.nats?.[identity];
    if (!user || fromSeed(new TextEncoder().encode(user.seed)).getPublicKey() !== user.publicKey) {
      throw new Error(`${file}: no valid NKey for ${identity}; remove the file to generate new secrets`);
    }
  }
  if (typeof secrets.kek !== 'string' || Buffer.from(secrets.kek, 'base64url').length !== 32) {
    throw new Error(`${file}: no valid KEK`);
  }
  for (const user of REDIS_USERS) {
    if (typeof secrets.redis?.[user] !== 'string' || secrets.redis[user].length < 16) {
      throw new Error(`${file}: no valid Redis password for ${user}; remove the file to generate new secrets`);
    }
  }
  return secrets;
}

/** Writes `text` to `file` with mode 0600 (a file that exists is replaced and tightened). */
export function writePrivateFile(file: string, text: string): void {
  ensurePrivateDir(path.dirname(file));
  fs.writeFileSync(file, text, { mode: PRIVATE_FILE_MODE });
  fs.chmodSync(file, PRIVATE_FILE_MODE);
}

/** The secrets in `dir/secrets.json`, generated and written on first use. */
export function readOrCreateSecrets(dir: string): { secrets: DistributedSecrets; created: boolean } {
  const file = path.join(dir, 'secrets.json');
  if (fs.existsSync(file)) return { secrets: parseSecrets(fs.readFileSync(file, 'utf8'), file), created: false };
  const secrets = generateSecrets();
  writePrivateFile(file, `${JSON.stringify(secrets, null, 2)}\n`);
  return { secrets, created: true };
}

export interface NatsTlsSettings {
  certFile: string;
  keyFile: string;
  /** The CA of client certificates; with `verify`, every client must present one (mutual TLS). */
  caFile?: string;
  verify?: boolean;
}

export interface NatsServerSettings {
  host: string;
  port: number;
  /** JetStream's storage directory. */
  storeDir: string;
  tls?: NatsTlsSettings;
}

/**
 * The nats-server configuration: the listener, JetStream, optional TLS, and one user per identity,
 * known by its NKey's public key, with its derived permissions. Written as JSON, which the
 * nats-server configuration format accepts. No user, no connection: anonymous clients are refused.
 */
export function natsServerConfig(secrets: DistributedSecrets, settings: NatsServerSettings): string {
  const users = NATS_IDENTITIES.map((identity) => ({
    nkey: secrets.nats[identity].publicKey,
    permissions: natsServerPermissions(natsPermissions(identity)),
  }));
  const { tls } = settings;
  const config = {
    host: settings.host,
    port: settings.port,
    jetstream: { store_dir: settings.storeDir },
    authorization: { users },
    ...(tls
      ? {
          tls: {
            cert_file: tls.certFile,
            key_file: tls.keyFile,
            ...(tls.caFile ? { ca_file: tls.caFile } : {}),
            ...(tls.verify ? { verify: true } : {}),
          },
        }
      : {}),
  };
  return `# Generated by infra/deploy/distributed-config.ts: permissions derived from contracts/.\n${JSON.stringify(config, null, 2)}\n`;
}

export interface ServiceEnvSettings {
  /** `nats://…` or `tls://…`, the same for the bus, the log and the data keys. */
  natsUrl: string;
  redisUrl: string;
  issuer: string;
  /** The CA that signed nats-server's certificate (IDP_NATS_CA), when it is not a public one. */
  natsCaFile?: string;
  healthHost?: string;
}

/** The environment one service process needs, credentials included (only those it needs). */
export function serviceEnv(service: DistributedService, secrets: DistributedSecrets, settings: ServiceEnvSettings): Record<string, string> {
  const nats: Record<string, string> = {
    BUS_URL: settings.natsUrl,
    IDP_NATS_SEED: secrets.nats[service].seed,
    ...(settings.natsCaFile ? { IDP_NATS_CA: settings.natsCaFile } : {}),
  };
  // Least privilege: client-registry never gets the KEK, the gateway no store at all.
  const kek: Record<string, string> = service === 'client-registry' ? {} : { IDP_KEK: secrets.kek };
  const health: Record<string, string> = settings.healthHost ? { HEALTH_HOST: settings.healthHost } : {};
  if (service === 'gateway') return { ...nats, ...kek, ...health, ISSUER: settings.issuer };
  return {
    ...nats,
    ...kek,
    ...health,
    EVENT_STORE_URL: settings.natsUrl,
    PROJECTIONS_URL: settings.redisUrl,
    IDP_REDIS_USERNAME: service,
    IDP_REDIS_PASSWORD: secrets.redis[service],
    ...(service === 'authn' ? { IDP_DATA_KEYS_URL: settings.natsUrl } : {}),
    ...(service === 'token-issuer' ? { ISSUER: settings.issuer } : {}),
  };
}

/** redis-server's ACL file for the deployment: the default user off, each user limited to its keys. */
export function redisAclFileText(secrets: DistributedSecrets): string {
  return `${redisAclFileLines(REDIS_USERS.map((service) => ({ service, password: secrets.redis[service] }))).join('\n')}\n`;
}

/** An env file (`KEY=value` lines), for an operator who starts a service by hand. */
export function envFileText(env: Record<string, string>): string {
  return `${Object.entries(env)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}

export interface DistributedLayout {
  dir: string;
  secretsFile: string;
  natsConfigFile: string;
  natsStoreDir: string;
  redisDir: string;
  /** redis-server's `aclfile`: one user per backend and the admin, passwords as SHA-256 only. */
  redisAclFile: string;
  envFile(service: DistributedService): string;
}

export function distributedLayout(dir: string): DistributedLayout {
  const root = path.resolve(dir);
  return {
    dir: root,
    secretsFile: path.join(root, 'secrets.json'),
    natsConfigFile: path.join(root, 'nats-server.conf'),
    natsStoreDir: path.join(root, 'nats'),
    redisDir: path.join(root, 'redis'),
    redisAclFile: path.join(root, 'redis-users.acl'),
    envFile: (service) => path.join(root, 'env', `${service}.env`),
  };
}

export interface WriteSettings {
  nats: Omit<NatsServerSettings, 'storeDir'>;
  services: ServiceEnvSettings;
}

/**
 * Writes (or rewrites) the deployment's configuration into `dir`: the secrets on first use (kept
 * on later runs, so the log's data keys and the NKeys stay valid), the nats-server configuration
 * and each service's env file from them. Returns what was written.
 */
export function writeDistributedConfig(
  dir: string,
  settings: WriteSettings,
): { layout: DistributedLayout; secrets: DistributedSecrets; created: boolean; env: Record<DistributedService, Record<string, string>> } {
  const layout = distributedLayout(dir);
  ensurePrivateDir(layout.dir);
  const { secrets, created } = readOrCreateSecrets(layout.dir);
  ensurePrivateDir(layout.natsStoreDir);
  ensurePrivateDir(layout.redisDir);
  writePrivateFile(layout.natsConfigFile, natsServerConfig(secrets, { ...settings.nats, storeDir: layout.natsStoreDir }));
  writePrivateFile(layout.redisAclFile, redisAclFileText(secrets));
  const env = Object.fromEntries(
    DISTRIBUTED_SERVICES.map((service) => [service, serviceEnv(service, secrets, settings.services)]),
  ) as Record<DistributedService, Record<string, string>>;
  for (const service of DISTRIBUTED_SERVICES) writePrivateFile(layout.envFile(service), envFileText(env[service]));
  return { layout, secrets, created, env };
}
