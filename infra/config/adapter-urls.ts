import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * Adapters are chosen by URL (DESIGN §5), parsed once at start-up; a URL no adapter serves is a
 * start-up error that says what is accepted.
 */
export const EventStoreUrl = z.string().transform((url, ctx) => {
  if (url === 'memory:') return { kind: 'memory' as const };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path !== '') return { kind: 'sqlite' as const, path: resolve(path) };
  } else if (/^nats:\/\/[^/]+/.test(url)) {
    return { kind: 'jetstream' as const, url };
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

export const BusUrl = z.string().transform((url, ctx) => {
  if (url === 'inproc:') return { kind: 'inproc' as const };
  if (/^nats:\/\/[^/]+/.test(url)) return { kind: 'nats' as const, url };
  ctx.addIssue({ code: 'custom', message: `unsupported BUS_URL "${url}": use inproc: or nats://host:4222` });
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
  if (/^nats:\/\/[^/]+/.test(url)) return { kind: 'nats-kv' as const, url };
  ctx.addIssue({ code: 'custom', message: `unsupported IDP_DATA_KEYS_URL "${url}": use sqlite:<path>, memory: or nats://host:4222 (KV)` });
  return z.NEVER;
});
export type DataKeysUrl = z.infer<typeof DataKeysUrl>;
