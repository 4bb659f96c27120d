/**
 * The key layout of RedisProjectionStore, shared with its ACL rules (redis-acl.ts) so the two
 * cannot drift: every key of a store with prefix P lives in the namespace `{P}` (a Redis Cluster
 * hash tag), entries under `{P}k:`, the checkpoints in the one hash `{P}checkpoints`.
 */
export const redisNamespace = (keyPrefix: string): string => `{${keyPrefix}}`;
/** Where a store keeps the entry of a projection key `key`: this prefix, then `key`. */
export const redisEntryKeyPrefix = (keyPrefix: string): string => `${redisNamespace(keyPrefix)}k:`;
/** The one hash holding a store's checkpoints. */
export const redisCheckpointKey = (keyPrefix: string): string => `${redisNamespace(keyPrefix)}checkpoints`;
/** Escapes Redis glob syntax (`* ? [ ] \`) in a literal; braces are not special to Redis's glob. */
export const escapeRedisGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');
