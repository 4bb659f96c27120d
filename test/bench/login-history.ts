import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { AuthnApp } from '../../services/authn/app/authn.app.js';

/**
 * "A login after 10,000 logins" (issue 8, logins that scale): one account on a fresh SQLite log
 * logs in through the real code path (`AuthnApp.login`: the user stream read and decided, the
 * login recorded, a session started), `logins` times; the result compares the first logins with
 * those after that history. A login whose cost grows with past logins shows as `afterMs` well
 * above `firstMs`.
 *
 * Each figure is the median of SAMPLE logins (the account's first SAMPLE, after another account
 * warmed the process up; the SAMPLE right after the `logins` seeded), to keep one scheduling
 * hiccup out of it. argon2id runs with small parameters
 * (the cost measured is the log's, not the hash's), and the log with `synchronous=normal` so
 * that seeding is not bound by fsync; both are the same before and after.
 */
export async function measureLoginAfterHistory(opts: { logins: number }): Promise<{ firstMs: number; afterMs: number; logins: number }> {
  if (!Number.isInteger(opts.logins) || opts.logins < SAMPLE) throw new Error(`logins must be an integer of at least ${SAMPLE}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'login-history-'));
  const store = SqliteEventStore.open(path.join(dir, 'log.db'), { synchronous: 'normal' });
  try {
    const app = new AuthnApp({
      store,
      projections: new InMemoryProjectionStore(),
      dataKeys: new InMemoryDataKeyStore(randomBytes(32)),
      usernameKey: randomBytes(32),
      loginSourceKey: randomBytes(32),
      sessionTtlSeconds: 3600,
      argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    });
    const password = randomBytes(12).toString('base64url');
    const login = async (username: string): Promise<number> => {
      const started = performance.now();
      const result = await app.login(ctx, { username, password, clientId: 'bench' });
      const elapsed = performance.now() - started;
      if (!result.authenticated) throw new Error('a seeded login was refused');
      return elapsed;
    };
    // Another account warms the process up (JIT, SQLite's caches), so that "first" is not "cold".
    await app.registerUser(ctx, { username: 'warm-up', password });
    for (let i = 0; i < WARM_UP; i++) await login('warm-up');

    await app.registerUser(ctx, { username: 'history', password });
    const first: number[] = [];
    for (let i = 0; i < SAMPLE; i++) first.push(await login('history'));
    // Seeded a few at a time (argon2 runs off the main thread), through the same code path.
    for (let seeded = SAMPLE; seeded < opts.logins; ) {
      const batch = Math.min(SEED_CONCURRENCY, opts.logins - seeded);
      await Promise.all(Array.from({ length: batch }, () => login('history')));
      seeded += batch;
    }
    const after: number[] = [];
    for (let i = 0; i < SAMPLE; i++) after.push(await login('history'));
    return { firstMs: median(first), afterMs: median(after), logins: opts.logins };
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const SAMPLE = 5;
const WARM_UP = 50;
const SEED_CONCURRENCY = 8;
const ctx: RequestContext = { tenant: 'default', correlationId: 'bench', causationId: null, actor: { kind: 'system', id: 'login-form' } };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
