import type { LiveDigest } from '../../../infra/projections/live-digest.js';
import { settledDigest } from '../../../infra/projections/live-digest.js';
import { RedisProjectionStore } from '../../../infra/projections/redis.js';
import { redisKeyPrefix } from '../../../infra/projections/redis-acl.js';
import type { ProjectionNamespace } from '../../embedded/projection-catalogue.js';
import { CliError, EXIT } from '../exit-codes.js';

/** Where the live projections are read: the digests they have at `now`, each with its position. */
export interface LiveState {
  /** For messages: what was asked. */
  describe: string;
  digests(namespaces: readonly ProjectionNamespace[], now: number): Promise<LiveDigest[]>;
  close(): Promise<void>;
}

const unavailable = (what: string, error: unknown) =>
  new CliError(EXIT.unavailable, `cannot read the live projections from ${what}: ${error instanceof Error ? error.message : String(error)}`);

/**
 * Servers that keep their projections in memory: the embedded server, or backends on their
 * HEALTH_PORT, each answering GET /projections/digest (to this host only). A projection is taken
 * from the first server that reports it.
 */
export function liveFromServers(urls: readonly string[], timeoutMs = 30_000): LiveState {
  return {
    describe: urls.join(', '),
    async digests(_namespaces, now) {
      const found: LiveDigest[] = [];
      for (const url of urls) {
        const address = new URL('/projections/digest', url);
        address.searchParams.set('now', String(now));
        let response: Response;
        try {
          response = await fetch(address, { signal: AbortSignal.timeout(timeoutMs) });
        } catch (error) {
          throw unavailable(url, error);
        }
        if (!response.ok) throw new CliError(EXIT.unavailable, `${url} answered ${response.status} to ${address.pathname}: ${(await response.text()).slice(0, 200)}`);
        const body = (await response.json()) as { projections?: LiveDigest[] };
        for (const digest of body.projections ?? []) if (!found.some((d) => d.name === digest.name)) found.push(digest);
      }
      return found;
    },
    async close() {},
  };
}

export interface RedisAccess {
  url: string;
  username?: string;
  password?: string;
  ca?: string;
}

/**
 * The distributed services' projections in Redis, one namespace per backend, read as the
 * read-only `admin` ACL user (infra/projections/redis-acl.ts: HGET, HMGET, SCAN, PING).
 */
export function liveFromRedis(access: RedisAccess): LiveState {
  const stores = new Map<string, RedisProjectionStore>();
  const open = async (namespace: ProjectionNamespace) => {
    let store = stores.get(namespace.service);
    if (store === undefined) {
      try {
        store = await RedisProjectionStore.connect(access.url, {
          keyPrefix: redisKeyPrefix(namespace.service),
          ...(access.password === undefined ? {} : { username: access.username ?? 'admin', password: access.password }),
          ...(access.ca === undefined ? {} : { ca: access.ca }),
        });
      } catch (error) {
        throw unavailable(access.url.replace(/\/\/[^@/]*@/, '//'), error);
      }
      stores.set(namespace.service, store);
    }
    return store;
  };
  return {
    describe: 'Redis',
    async digests(namespaces, now) {
      const digests: LiveDigest[] = [];
      for (const namespace of namespaces) {
        const store = await open(namespace);
        digests.push(await settledDigest(store, { name: namespace.service, checkpoints: namespace.checkpoints }, now));
      }
      return digests;
    },
    async close() {
      await Promise.all([...stores.values()].map((store) => store.close()));
    },
  };
}
