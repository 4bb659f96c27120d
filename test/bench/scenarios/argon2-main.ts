import { randomBytes } from 'node:crypto';
import { DEFAULT_ARGON2, hashPassword, verifyPassword } from '../../../infra/crypto/passwords.js';
import { summarize } from '../stats.js';
import { announceReady } from '../targets/child-server.js';

/**
 * argon2id verifications per second on one core (this process is started pinned to it), with
 * our parameters: the ceiling of password logins per core. One verification at a time: on one
 * core more in flight cannot finish more.
 */
const seconds = Number(process.env.BENCH_ARGON2_SECONDS ?? 5);
const password = randomBytes(12).toString('base64url');
const hash = await hashPassword(password, DEFAULT_ARGON2);
await verifyPassword(hash, password); // warm-up
const latencies: number[] = [];
const started = performance.now();
while (performance.now() - started < seconds * 1000) {
  const t0 = performance.now();
  if (!(await verifyPassword(hash, password))) throw new Error('argon2 verification failed');
  latencies.push(performance.now() - t0);
}
announceReady({ parameters: DEFAULT_ARGON2, ...summarize(latencies, (performance.now() - started) / 1000, 0) });
