import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * Adapters are chosen by URL (DESIGN §5). Parsed once at start-up; a URL this build cannot
 * serve is a start-up error that says what is accepted.
 */
export const EventStoreUrl = z
  .string()
  .transform((url, ctx) => {
    if (url === 'memory:') return { kind: 'memory' as const };
    if (url.startsWith('sqlite:')) {
      const path = url.slice('sqlite:'.length);
      if (path === '') {
        ctx.addIssue({ code: 'custom', message: 'sqlite: needs a file path, e.g. sqlite:./data/idp.db' });
        return z.NEVER;
      }
      return { kind: 'sqlite' as const, path: resolve(path) };
    }
    ctx.addIssue({
      code: 'custom',
      message: `unsupported EVENT_STORE_URL "${url}": use sqlite:<path> or memory: (nats:// and kurrentdb:// come with the distributed mode)`,
    });
    return z.NEVER;
  });
export type EventStoreUrl = z.infer<typeof EventStoreUrl>;

export const BusUrl = z.string().transform((url, ctx) => {
  if (url === 'inproc:') return { kind: 'inproc' as const };
  ctx.addIssue({ code: 'custom', message: `unsupported BUS_URL "${url}": use inproc: (nats:// comes with the distributed mode)` });
  return z.NEVER;
});
export type BusUrl = z.infer<typeof BusUrl>;

export const ProjectionsUrl = z.string().transform((url, ctx) => {
  if (url === 'memory:') return { kind: 'memory' as const };
  ctx.addIssue({
    code: 'custom',
    message: `unsupported PROJECTIONS_URL "${url}": use memory: (redis:// comes with the distributed mode)`,
  });
  return z.NEVER;
});
export type ProjectionsUrl = z.infer<typeof ProjectionsUrl>;
