import { measureLoginAfterHistory } from '../login-history.js';
import type { HistoryCost } from './history.js';

/**
 * The cost of a login after 10,000 logins of the same account, measured by
 * `test/bench/login-history.ts` (`measureLoginAfterHistory`: the real login code over a SQLite log).
 */
export async function loginAfterLogins(logins: number): Promise<HistoryCost> {
  const started = performance.now();
  const result = await measureLoginAfterHistory({ logins });
  return { firstMs: result.firstMs, afterMs: result.afterMs, history: result.logins, historySeconds: (performance.now() - started) / 1000 };
}
