import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parseDocument } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { NATS_IDENTITIES } from '../../infra/bus/permissions.js';
import { generateSecrets } from '../../infra/deploy/distributed-config.js';
import { composeEnvFile, kubernetesSecrets, redisAclFile, type RedisPasswords } from '../../infra/deploy/deployment-secrets.js';
import { natsAuthorizationConf, nkeyVariable } from '../../infra/deploy/nats-authorization.js';

/**
 * The deployment files and the generated configuration fit together (issue 10 point 5): the NATS
 * users and permissions in infra/k8s/nats.yaml and infra/nats/auth.conf (docker-compose.yml) are
 * exactly what contracts/ derive; every public key they refer to is provided; what
 * `npm run deploy:emit` writes drops in for the placeholders (the same Secrets and keys), is
 * accepted by nats-server, holds no password in plaintext outside a Secret, and gives
 * docker-compose.yml every variable it requires.
 */
const HERE = dirname(fileURLToPath(import.meta.url));
function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json + tsconfig.json above ${start}`);
  }
}
const ROOT = findRepoRoot(HERE);
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

type Dict = Record<string, unknown>;
const dict = (v: unknown): Dict => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Dict) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const documents = (text: string) => parseAllDocuments(text).map((d) => dict(d.toJS()));

const k8s = ['nats.yaml', 'secret.yaml'].flatMap((f) => documents(read(`infra/k8s/${f}`)));
const find = (kind: string, name: string) => k8s.find((o) => o.kind === kind && dict(o.metadata).name === name);
const REDIS_PASSWORDS: RedisPasswords = {
  authn: 'authn-password-0123456789',
  'client-registry': 'registry-password-0123456789',
  'token-issuer': 'issuer-password-0123456789',
  admin: 'admin-password-0123456789',
};

describe('NATS users and permissions in the deployment files', () => {
  test('infra/nats/auth.conf (compose) is what contracts/ derive', () => {
    expect(read('infra/nats/auth.conf')).toBe(natsAuthorizationConf());
  });

  test('infra/k8s/nats.yaml holds the same auth.conf, includes it, and gives nats-server every public key it names', () => {
    const config = dict(find('ConfigMap', 'nats-config')?.data);
    expect(config['auth.conf']).toBe(natsAuthorizationConf());
    expect(String(config['nats.conf'])).toMatch(/^\s*include \.\/auth\.conf\s*$/m);
    const pod = dict(dict(dict(find('StatefulSet', 'nats')?.spec).template).spec);
    const container = dict(list(pod.containers)[0]);
    expect(list(container.envFrom)).toContainEqual({ configMapRef: { name: 'nats-identities' } });
    const identities = dict(find('ConfigMap', 'nats-identities')?.data);
    const named = [...natsAuthorizationConf().matchAll(/\$(IDP_NKEY_\w+)/g)].map((m) => m[1]).sort();
    expect(Object.keys(identities).sort()).toEqual(named);
    expect(named).toEqual(NATS_IDENTITIES.map(nkeyVariable).sort());
  });

  test('docker-compose.yml mounts that auth.conf, includes it, and requires every public key it names', () => {
    const compose = dict(parseDocument(read('docker-compose.yml'), { merge: true }).toJS());
    const nats = dict(dict(compose.services).nats);
    expect(list(nats.configs)).toContainEqual({ source: 'nats-auth', target: '/etc/nats/auth.conf' });
    const configs = dict(compose.configs);
    expect(dict(configs['nats-auth']).file).toBe('./infra/nats/auth.conf');
    expect(String(dict(configs['nats-jetstream']).content)).toMatch(/^include \.\/auth\.conf$/m);
    const environment = dict(nats.environment);
    for (const identity of NATS_IDENTITIES) {
      expect([identity, environment[nkeyVariable(identity)]]).toEqual([identity, expect.stringMatching(new RegExp(`^\\$\\{${nkeyVariable(identity)}:\\?`))]);
    }
  });

  test('a changed contract is seen: the committed text no longer equals the derivation', () => {
    const changed = natsAuthorizationConf().replace('"idp.authn.login",\n', '');
    expect(changed).not.toBe(read('infra/nats/auth.conf'));
  });
});

describe('npm run deploy:emit', () => {
  const secrets = generateSecrets();
  const emitted = documents(kubernetesSecrets(secrets, REDIS_PASSWORDS, 'an-initial-access-token'));

  test('writes valid Secrets and the ConfigMap nats-identities, with the names and keys of the placeholders they replace', () => {
    const shape = (objects: Dict[]) =>
      objects
        .filter((o) => o.kind === 'Secret' || dict(o.metadata).name === 'nats-identities')
        .map((o) => [o.kind, dict(o.metadata).name, Object.keys({ ...dict(o.stringData), ...dict(o.data) }).sort()])
        .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    expect(shape(emitted)).toEqual(shape(k8s));
    for (const object of emitted) {
      const Model = object.kind === 'Secret' ? Secret : ConfigMap;
      expect(() => new Model(object as never).validate()).not.toThrow();
    }
    expect(JSON.stringify(emitted)).not.toContain('REPLACE_ME');
  });

  test('each service gets its own seed; nats-server accepts the derived auth.conf with the emitted public keys', () => {
    const seeds = emitted.filter((o) => o.kind === 'Secret' && dict(o.stringData).IDP_NATS_SEED).map((o) => dict(o.stringData).IDP_NATS_SEED);
    expect(new Set(seeds).size).toBe(4);
    const identities = dict(emitted.find((o) => dict(o.metadata).name === 'nats-identities')?.data) as Record<string, string>;
    const dir = mkdtempSync(join(os.tmpdir(), 'nats-auth-'));
    try {
      writeFileSync(join(dir, 'auth.conf'), natsAuthorizationConf());
      writeFileSync(join(dir, 'nats.conf'), 'port: 4222\ninclude ./auth.conf\n');
      const check = (env: Record<string, string>) =>
        spawnSync('nats-server', ['-c', join(dir, 'nats.conf'), '-t'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
      const valid = check(identities);
      expect([valid.status, valid.stderr]).toEqual([0, expect.any(String)]);
      // A placeholder key (as in infra/k8s/secret.yaml) stops nats-server: it never runs open.
      const placeholder = check({ ...identities, IDP_NKEY_GATEWAY: 'REPLACE_ME' });
      expect(placeholder.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Redis passwords only in Secrets and the env file; the ACL file holds their SHA-256 alone', () => {
    const acl = redisAclFile(REDIS_PASSWORDS);
    const aclSecret = String(dict(emitted.find((o) => dict(o.metadata).name === 'idp-redis-acl')?.stringData)['users.acl']);
    expect(aclSecret).toBe(acl);
    for (const password of Object.values(REDIS_PASSWORDS)) expect(acl).not.toContain(password);
    expect(acl).toMatch(/^user default reset off$/m);
    for (const object of emitted.filter((o) => o.kind === 'ConfigMap')) {
      for (const password of Object.values(REDIS_PASSWORDS)) expect(JSON.stringify(object)).not.toContain(password);
      for (const identity of NATS_IDENTITIES) expect(JSON.stringify(object)).not.toContain(secrets.nats[identity].seed);
    }
  });

  test('compose.env gives docker-compose.yml every variable it requires', () => {
    const env = new Map(
      composeEnvFile(secrets, REDIS_PASSWORDS, 'an-initial-access-token')
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
    );
    const required = [...read('docker-compose.yml').matchAll(/\$\{(\w+):\?/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(10);
    expect(required.filter((name) => !env.has(name))).toEqual([]);
    expect(env.get('IDP_NATS_SEED_TOKEN_ISSUER')).toBe(secrets.nats['token-issuer'].seed);
    expect(env.get('IDP_NKEY_EVENTS_READER')).toBe(secrets.nats['events-reader'].publicKey);
    // Only the services get seeds: no admin or events-reader seed in the deployment.
    expect([...env.values()]).not.toContain(secrets.nats.admin.seed);
  });
});
