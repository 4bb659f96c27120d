import type { AdminSession, CliContext } from './context.js';

/**
 * Runs one administrative command on an admin session (the owning service's own handler in
 * embedded mode, the bus as the `admin` identity in distributed mode) and closes it after,
 * whatever happened.
 */
export async function withAdminSession<T>(ctx: CliContext, work: (session: AdminSession) => Promise<T>): Promise<T> {
  const session = await ctx.openAdmin();
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}
