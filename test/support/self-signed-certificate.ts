import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A self-signed P-256 certificate for 127.0.0.1 and localhost, valid one day, made with openssl
 * into `dir` (cert.pem, key.pem): what the TLS tests give nats-server and redis-server, and what
 * a client then trusts as its CA file.
 */
export function makeSelfSignedCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const made = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-keyout', keyFile, '-out', certFile, '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  if (made.status !== 0) {
    throw new Error(`the TLS tests need openssl to make a certificate (Debian: apt-get install -y openssl): ${made.error?.message ?? made.stderr.toString()}`);
  }
  return { certFile, keyFile };
}
