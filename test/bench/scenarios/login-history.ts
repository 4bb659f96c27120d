import type { HistoryCost } from './history.js';

/**
 * The cost of a login after 10,000 logins of the same account, measured by
 * `test/bench/login-history.ts` (`measureLoginAfterHistory`, from the logins work of issue 8).
 * Loaded by name at run time, so the bench runs (and says TODO) while that file has not landed.
 */
type MeasureLoginAfterHistory = (opts: { logins: number }) => Promise<{ firstMs: number; afterMs: number; logins: number }>;

export async function loginAfterLogins(logins: number): Promise<HistoryCost | { todo: string }> {
  const modulePath = new URL('../login-history.js', import.meta.url).href;
  let measure: MeasureLoginAfterHistory | undefined;
  try {
    measure = ((await import(modulePath)) as { measureLoginAfterHistory?: MeasureLoginAfterHistory }).measureLoginAfterHistory;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
  }
  if (!measure) return { todo: 'test/bench/login-history.ts (measureLoginAfterHistory) has not landed on main yet' };
  const started = performance.now();
  const result = await measure({ logins });
  return { firstMs: result.firstMs, afterMs: result.afterMs, history: result.logins, historySeconds: (performance.now() - started) / 1000 };
}
