import { resolve } from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_SQLITE_SYNCHRONOUS,
  SQLITE_SYNCHRONOUS,
  parseSqliteSynchronous,
  type SqliteSynchronous,
} from '../event-store/sqlite-synchronous.js';

/**
 * Adapters are chosen by URL (DESIGN §5), parsed once at start-up; a URL no adapter serves is a
 * start-up error that says what is accepted.
 */
export const EventStoreUrl = z.string().transform((url, ctx) => {
  if (url === 'memory:') return { kind: 'memory' as const };
  if (url.startsWith('sqlite:')) {
    const sqlite = parseSqliteUrl(url);
    if (typeof sqlite === 'string') {
      ctx.addIssue({ code: 'custom', message: sqlite });
      return z.NEVER;
    }
    if (sqlite !== undefined) return sqlite;
  } else if (/^(nats|tls):\/\/[^/]+/.test(url)) {
    return jetStreamUrl(url, ctx);
  } else if (/^(kurrentdb|esdb|kdb)(\+discover)?:\/\/[^/]+/.test(url)) {
    return { kind: 'kurrentdb' as const, url };
  }
  ctx.addIssue({
    code: 'custom',
    message: `unsupported EVENT_STORE_URL "${url}": use sqlite:<path>, memory:, nats://host:4222 (JetStream) or kurrentdb://host:2113?tls=false`,
  });
  return z.NEVER;
});
export type EventStoreUrl = z.infer<typeof EventStoreUrl>;

/**
 * `sqlite:<path>[?synchronous=full|normal]`: the log's file and how hard each append is synced
 * (FULL unless the operator asks for less). Returns undefined for an empty path, and a message
 * for an option or value it does not know: a misspelt durability setting must stop start-up,
 * not fall back silently.
 */
function parseSqliteUrl(url: string): { kind: 'sqlite'; path: string; synchronous: SqliteSynchronous } | string | undefined {
  const rest = url.slice('sqlite:'.length);
  const queryAt = rest.indexOf('?');
  const path = queryAt === -1 ? rest : rest.slice(0, queryAt);
  if (path === '') return undefined;
  let synchronous = DEFAULT_SQLITE_SYNCHRONOUS;
  for (const [name, value] of new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1))) {
    if (name !== 'synchronous') {
      return `unsupported option "${name}" in EVENT_STORE_URL "${url}": sqlite: accepts only ?synchronous=${SQLITE_SYNCHRONOUS.join('|')}`;
    }
    try {
      synchronous = parseSqliteSynchronous(value);
    } catch (error) {
      return `${(error as Error).message} in EVENT_STORE_URL "${url}"`;
    }
  }
  return { kind: 'sqlite', path: resolve(path), synchronous };
}

/**
 * `nats://host:4222[?replicas=N]`: the server for the client, and the `num_replicas` of the
 * JetStream stream behind it (1 to 5, nats-server's maximum; default 1). An option the adapter
 * does not know is an error rather than ignored, so that a typo cannot weaken durability
 * unnoticed. The messages leave the URL out: it may hold a password.
 */
function natsReplicasUrl(url: string, variable: string, ctx: z.RefinementCtx): { url: string; replicas: number } | undefined {
  const query = url.indexOf('?');
  const options = new URLSearchParams(query === -1 ? '' : url.slice(query + 1));
  let replicas = 1;
  for (const [name, value] of options) {
    if (name === 'replicas' && /^[1-5]$/.test(value)) {
      replicas = Number(value);
      continue;
    }
    ctx.addIssue({
      code: 'custom',
      message:
        name === 'replicas'
          ? `replicas must be 1 to 5 in ${variable}, got "${value}"`
          : `unknown option "${name}" in ${variable}: nats:// takes ?replicas=1..5`,
    });
    return undefined;
  }
  return { url: query === -1 ? url : url.slice(0, query), replicas };
}

/** The log stream `IDP_LOG` on JetStream. */
function jetStreamUrl(url: string, ctx: z.RefinementCtx) {
  const parsed = natsReplicasUrl(url, 'EVENT_STORE_URL', ctx);
  return parsed === undefined ? z.NEVER : { kind: 'jetstream' as const, ...parsed };
}

export const BusUrl = z.string().transform((url, ctx) => {
  if (url === 'inproc:') return { kind: 'inproc' as const };
  if (/^(nats|tls):\/\/[^/]+/.test(url)) return { kind: 'nats' as const, url };
  ctx.addIssue({ code: 'custom', message: `unsupported BUS_URL "${url}": use inproc:, nats://host:4222 or tls://host:4222` });
  return z.NEVER;
});
export type BusUrl = z.infer<typeof BusUrl>;

export const ProjectionsUrl = z.string().transform((url, ctx) => {
  if (url === 'memory:') return { kind: 'memory' as const };
  if (/^rediss?:\/\/[^/]+/.test(url)) return { kind: 'redis' as const, url };
  ctx.addIssue({ code: 'custom', message: `unsupported PROJECTIONS_URL "${url}": use memory: or redis://host:6379` });
  return z.NEVER;
});
export type ProjectionsUrl = z.infer<typeof ProjectionsUrl>;

export const DataKeysUrl = z.string().transform((url, ctx) => {
  if (url === 'memory:') return { kind: 'memory' as const };
  if (url.startsWith('sqlite:') && url.length > 'sqlite:'.length) {
    return { kind: 'sqlite' as const, path: resolve(url.slice('sqlite:'.length)) };
  }
  if (/^(nats|tls):\/\/[^/]+/.test(url)) {
    // The KV bucket of the data keys: as many replicas as the log whose events they seal.
    const parsed = natsReplicasUrl(url, 'IDP_DATA_KEYS_URL', ctx);
    return parsed === undefined ? z.NEVER : { kind: 'nats-kv' as const, ...parsed };
  }
  ctx.addIssue({ code: 'custom', message: `unsupported IDP_DATA_KEYS_URL "${url}": use sqlite:<path>, memory: or nats://host:4222 (KV)` });
  return z.NEVER;
});
export type DataKeysUrl = z.infer<typeof DataKeysUrl>;
