import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { GetClient } from '../../contracts/messages/client-registry.js';
import { NatsBus } from '../../infra/bus/nats.js';
import { natsConnectionOptions } from '../../infra/bus/nats-connection-options.js';
import { call } from '../../infra/bus/typed.js';
import { generateSecrets, natsServerConfig, redisAclFileText, serviceEnv } from '../../infra/deploy/distributed-config.js';
import { makeSelfSignedCertificate } from '../support/self-signed-certificate.js';
import { freePort, startConfiguredNats, startRedis, type TestServer } from '../support/servers.js';

/**
 * NATS over TLS, as README's Security section tells an operator to run it: nats-server with a
 * certificate (here self-signed, made with openssl) and the generated NKey users; a service
 * reaches it at `tls://…` trusting the certificate through IDP_NATS_CA, and nothing less.
 */
const dir = mkdtempSync(join(tmpdir(), 'nats-tls-'));
const { certFile, keyFile } = makeSelfSignedCertificate(dir);
const secrets = generateSecrets();
let nats: TestServer;
let redis: TestServer;
let tlsUrl: string;

beforeAll(async () => {
  nats = await startConfiguredNats((port, storeDir) => natsServerConfig(secrets, { host: '127.0.0.1', port, storeDir, tls: { certFile, keyFile } }));
  tlsUrl = nats.url.replace(/^nats:/, 'tls:');
  // Redis as start:distributed runs it: the generated ACL users only (the service logs in as its own).
  const aclFile = join(dir, 'users.acl');
  writeFileSync(aclFile, redisAclFileText(secrets), { mode: 0o600 });
  redis = await startRedis({ aclFile });
}, 60_000);

afterAll(async () => {
  await redis?.stop();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const as = (identity: 'admin', caFile?: string) => natsConnectionOptions(tlsUrl, { identity, seed: secrets.nats[identity].seed, caFile });

describe('NATS over TLS with the generated configuration', () => {
  it('a client that does not trust the certificate cannot connect; with IDP_NATS_CA it can', async () => {
    // Refused in the TLS handshake (how it surfaces varies: a certificate error, or the socket closed).
    await expect(connect({ servers: tlsUrl, reconnect: false, ...as('admin') })).rejects.toThrow();
    const nc = await connect({ servers: tlsUrl, reconnect: false, ...as('admin', certFile) });
    expect(nc.info?.tls_required).toBe(true);
    await nc.close();
  });

  it('a service started with a tls:// URL and IDP_NATS_CA becomes ready and serves its subjects over TLS', async () => {
    const healthPort = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...serviceEnv('client-registry', secrets, { natsUrl: tlsUrl, redisUrl: redis.url, issuer: 'http://127.0.0.1:1', natsCaFile: certFile }),
      HEALTH_PORT: String(healthPort),
      HEALTH_HOST: '127.0.0.1',
    };
    expect(env['BUS_URL']).toMatch(/^tls:\/\//);
    const service = spawn(process.execPath, [fileURLToPath(new URL('../../services/client-registry/main.js', import.meta.url))], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    service.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
    service.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
    try {
      await waitReady(service, healthPort, () => output);
      const bus = await NatsBus.connect(tlsUrl, { name: 'test-admin', connection: as('admin', certFile) });
      try {
        const ctx = { tenant: 'default', correlationId: 'tls', causationId: null, actor: { kind: 'admin' as const, id: 'test' } };
        expect(await call(bus, GetClient, { ctx, clientId: 'nobody' })).toEqual({ client: null });
      } finally {
        await bus.close();
      }
    } finally {
      const exited = new Promise((resolve) => service.once('exit', resolve));
      service.kill('SIGTERM');
      const killer = setTimeout(() => service.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
  }, 150_000);
});

async function waitReady(child: ChildProcess, port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`client-registry exited:\n${output()}`);
    const status = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`client-registry not ready over TLS:\n${output()}`);
}
