import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendProjectionAccess } from '../../services/shared/adapters/open-adapters.js';
import { redisAclFileLines, REDIS_KEY_PREFIXES } from '../../infra/projections/redis-acl.js';
import { RedisProjectionStore } from '../../infra/projections/redis.js';
import { makeSelfSignedCertificate } from '../support/self-signed-certificate.js';
import { freePort, startRedis, type TestServer } from '../support/servers.js';

/**
 * Redis over TLS, as README's Security section tells an operator to run it: redis-server with a
 * certificate (self-signed here, made with openssl) and the generated ACL file; a backend reaches
 * it at `rediss://…` trusting the certificate through IDP_REDIS_CA, as its ACL user.
 */
const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
const { certFile, keyFile } = makeSelfSignedCertificate(dir);
const aclFile = join(dir, 'users.acl');
const PASSWORD = 'authn-password-over-tls-0123456789';
let server: TestServer;
let tlsUrl: string;

beforeAll(async () => {
  writeFileSync(aclFile, redisAclFileLines([{ service: 'authn', password: PASSWORD }]).join('\n') + '\n', { mode: 0o600 });
  const tlsPort = await freePort();
  server = await startRedis({
    aclFile,
    extraArgs: ['--tls-port', String(tlsPort), '--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-auth-clients', 'no'],
  });
  tlsUrl = `rediss://127.0.0.1:${tlsPort}`;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis over TLS with the generated ACL file', () => {
  it('a backend connects at rediss:// trusting IDP_REDIS_CA, as its ACL user, and works in its namespace', async () => {
    const access = backendProjectionAccess('authn', { IDP_REDIS_PASSWORD: PASSWORD, IDP_REDIS_CA: certFile });
    expect(access).toMatchObject({ keyPrefix: REDIS_KEY_PREFIXES.authn, username: 'authn', ca: readFileSync(certFile, 'utf8') });
    const store = await RedisProjectionStore.connect(tlsUrl, access);
    try {
      await store.ping();
      await store.apply([{ kind: 'put', key: 'user:default:s1', value: { sub: 's1' } }], 1, 'authn');
      expect(await store.get('user:default:s1')).toEqual({ sub: 's1' });
      expect(await store.checkpoint('authn')).toBe(1);
      await store.clear();
    } finally {
      await store.close();
    }
  });

  it('refuses a server certificate it was not told to trust, a wrong password over TLS, and a CA without TLS', async () => {
    await expect(RedisProjectionStore.connect(tlsUrl, { keyPrefix: REDIS_KEY_PREFIXES.authn, username: 'authn', password: PASSWORD })).rejects.toThrow(
      /self[- ]signed|certificate/i,
    );
    const ca = readFileSync(certFile, 'utf8');
    await expect(RedisProjectionStore.connect(tlsUrl, { keyPrefix: REDIS_KEY_PREFIXES.authn, username: 'authn', password: 'wrong-password-0123456789', ca })).rejects.toThrow(
      /WRONGPASS/,
    );
    await expect(RedisProjectionStore.connect(server.url, { username: 'authn', password: PASSWORD, ca })).rejects.toThrow(/rediss:\/\//);
  });
});
