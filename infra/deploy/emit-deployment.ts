/**
 * `npm run deploy:emit [-- <dir>]`: writes the credentials of the deployment files from the
 * configuration `npm run start:distributed` generates (the same `secrets.json`, created if it does
 * not exist yet), into `<dir>` (default `./data/distributed`):
 *
 * - `k8s-secrets.yaml` (0600): the Secrets `idp-<service>` and `idp-redis-acl`, and the ConfigMap
 *   `nats-identities`, to `kubectl apply -f` in place of infra/k8s/secret.yaml;
 * - `compose.env` (0600): for `docker compose --env-file ./data/distributed/compose.env up`;
 * - `redis-users.acl` (0644: it holds only SHA-256 hashes, and redis-server in its container
 *   runs as another user): the Redis ACL file docker-compose.yml mounts.
 *
 * IDP_INITIAL_ACCESS_TOKEN, when set, goes into the gateway's Secret and the env file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readOrCreateSecrets, writePrivateFile } from './distributed-config.js';
import { composeEnvFile, kubernetesSecrets, redisAclFile } from './deployment-secrets.js';

const dir = path.resolve(process.argv[2] ?? './data/distributed');
const { secrets, created } = readOrCreateSecrets(dir);
const redis = secrets.redis;
const token = process.env.IDP_INITIAL_ACCESS_TOKEN || undefined;

writePrivateFile(path.join(dir, 'k8s-secrets.yaml'), kubernetesSecrets(secrets, redis, token));
writePrivateFile(path.join(dir, 'compose.env'), composeEnvFile(secrets, redis, token));
const acl = path.join(dir, 'redis-users.acl');
fs.writeFileSync(acl, redisAclFile(redis), { mode: 0o644 });
fs.chmodSync(acl, 0o644);

process.stdout.write(
  [
    `${created ? 'generated new' : 'reused the'} secrets in ${path.join(dir, 'secrets.json')}`,
    `kubernetes: kubectl apply -f ${path.join(dir, 'k8s-secrets.yaml')}   (instead of infra/k8s/secret.yaml)`,
    `compose:    docker compose --env-file ${path.join(dir, 'compose.env')} up --build`,
    '',
  ].join('\n'),
);
