import { createHash } from 'node:crypto';
import { escapeRedisGlob, redisEntryKeyPrefix, redisNamespace } from './redis-keys.js';

/**
 * Redis ACL users for the projection stores (issue 10, README "Security"): one user per backend,
 * limited to its own namespace `{idp:proj:<service>:}` and to the commands RedisProjectionStore
 * sends, and a read-only `admin` for the command line. The ACL file holds each password as
 * `#<sha256>`, never in plaintext; the default user is off.
 */
export const REDIS_BACKENDS = ['authn', 'client-registry', 'token-issuer'] as const;
export type RedisBackend = (typeof REDIS_BACKENDS)[number];
/** The users of the ACL file: the three backends (which hold projections) and the admin CLI. */
export type RedisAclUserName = RedisBackend | 'admin';

/** The key prefix each backend opens its projection store under (hash tag `{idp:proj:<service>:}`). */
export const redisKeyPrefix = (service: RedisBackend): `idp:proj:${RedisBackend}:` => `idp:proj:${service}:`;

export const REDIS_KEY_PREFIXES: Readonly<Record<RedisBackend, string>> = Object.freeze(
  Object.fromEntries(REDIS_BACKENDS.map((service) => [service, redisKeyPrefix(service)])) as Record<RedisBackend, string>,
);

/**
 * The key families read across a namespace: the token-issuer reads the client watermarks that
 * the client-registry writes through at once (services/shared/projections/client-watermark.ts),
 * so that "revoke all tokens of a client" holds at the very next request. Read-only: a
 * watermark from there can only refuse more tokens, never accept one.
 */
export const CLIENT_WATERMARK_KEY_PREFIX = 'client-watermark:';
/** The same for the user watermarks authn writes through (services/shared/projections/user-watermark.ts). */
export const USER_WATERMARK_KEY_PREFIX = 'user-watermark:';

/**
 * Every command RedisProjectionStore sends, and nothing else: HGET/HMGET (get, checkpoint),
 * EVALSHA and EVAL (apply: node-redis sends EVALSHA and falls back to EVAL on NOSCRIPT) with
 * what the script calls (HGET, HSET, DEL, PTTL, PEXPIREAT), SCAN and UNLINK (digest, clear),
 * PING (readiness). The connection's HELLO with AUTH needs no grant. No FLUSHALL/FLUSHDB/CONFIG/
 * KEYS/DEBUG/ACL/SCRIPT/INFO/CLIENT/SELECT: the store turns off node-redis's CLIENT SETINFO and
 * CLIENT MAINT_NOTIFICATIONS, and a URL must not select a database. Redis checks a script's calls
 * against the user too, keys included.
 */
export const REDIS_SERVICE_COMMANDS = ['ping', 'hget', 'hmget', 'hset', 'del', 'pttl', 'pexpireat', 'evalsha', 'eval', 'scan', 'unlink'] as const;
/** What a read-only look at the projections needs (get, checkpoint, digest). */
export const REDIS_ADMIN_COMMANDS = ['ping', 'hget', 'hmget', 'scan'] as const;

/** The key patterns of a user: `~` read-write, `%R~` read-only. */
export function redisKeyPatterns(user: RedisAclUserName): string[] {
  if (user === 'admin') return [`%R~${escapeRedisGlob('{idp:proj:')}*`];
  const own = `~${escapeRedisGlob(redisNamespace(redisKeyPrefix(user)))}*`;
  if (user !== 'token-issuer') return [own];
  const watermarks = escapeRedisGlob(redisEntryKeyPrefix(redisKeyPrefix('client-registry')) + CLIENT_WATERMARK_KEY_PREFIX);
  const userWatermarks = escapeRedisGlob(redisEntryKeyPrefix(redisKeyPrefix('authn')) + USER_WATERMARK_KEY_PREFIX);
  return [own, `%R~${watermarks}*`, `%R~${userWatermarks}*`];
}

export interface RedisAclUser {
  service: RedisAclUserName;
  /** Plaintext; only its SHA-256 reaches the file. */
  password: string;
}

const USER_NAMES: readonly string[] = [...REDIS_BACKENDS, 'admin'];

/**
 * The lines of a Redis ACL file (`aclfile` in redis.conf): the default user off, then one user
 * per entry with its key patterns, no Pub/Sub channel and only its commands.
 */
export function redisAclFileLines(users: RedisAclUser[]): string[] {
  const seen = new Set<string>();
  const lines = ['user default reset off'];
  for (const { service, password } of users) {
    if (!USER_NAMES.includes(service)) throw new RangeError(`unknown Redis ACL user "${service}": use one of ${USER_NAMES.join(', ')}`);
    if (seen.has(service)) throw new RangeError(`Redis ACL user "${service}" given twice`);
    seen.add(service);
    if (typeof password !== 'string' || password.length < 16) {
      throw new RangeError(`the Redis password of "${service}" must be a string of at least 16 characters`);
    }
    const commands = service === 'admin' ? REDIS_ADMIN_COMMANDS : REDIS_SERVICE_COMMANDS;
    const hash = createHash('sha256').update(password, 'utf8').digest('hex');
    lines.push(
      ['user', service, 'reset', 'on', `#${hash}`, ...redisKeyPatterns(service), 'resetchannels', '-@all', ...commands.map((c) => `+${c}`)].join(' '),
    );
  }
  return lines;
}
