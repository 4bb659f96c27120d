import { createClient, defineScript, type CommandParser } from 'redis';
import { digestLiveEntries, type LiveEntry } from './digest.js';
import type { ProjectionStore, ProjectionWrite } from './port.js';

export interface RedisProjectionStoreOptions {
  /** Namespace of every key of this store; default 'idp:proj:'. Must not contain braces. */
  keyPrefix?: string;
  /**
   * How long after `expiresAt` Redis may drop an entry. Liveness is always decided from the
   * caller's `now`; this only bounds how long dead entries take space, and should exceed the
   * clock skew between the servers and Redis. Default one minute.
   */
  gcGraceMs?: number;
}

/** Latest and earliest times a JavaScript Date can hold: beyond them PEXPIREAT would fail. */
const MAX_TIME_MS = 8.64e15;

/**
 * KEYS[1] is the checkpoint hash, KEYS[2..n] the entry hashes. ARGV: position, '1' to move the
 * checkpoint (or '0'), checkpoint name, then per entry: JSON ('' for a tombstone), expiresAt
 * ('' for none) and the time at which Redis may drop it.
 *
 * Redis does not roll back a script that fails half-way, so everything that could make it fail
 * is validated before it is sent. Positions are stored as sent (decimal text): Lua only compares
 * them, as doubles, which is exact for safe integers.
 */
const APPLY_SCRIPT = `
local position = tonumber(ARGV[1])
for i = 2, #KEYS do
  local key = KEYS[i]
  local at = 4 + (i - 2) * 3
  local current = redis.call('HGET', key, 'p')
  if not current or position > tonumber(current) then
    redis.call('DEL', key)
    if ARGV[at] == '' then
      redis.call('HSET', key, 'p', ARGV[1])
    elseif ARGV[at + 1] == '' then
      redis.call('HSET', key, 'p', ARGV[1], 'v', ARGV[at])
    else
      redis.call('HSET', key, 'p', ARGV[1], 'v', ARGV[at], 'x', ARGV[at + 1])
      redis.call('PEXPIREAT', key, ARGV[at + 2])
    end
  end
end
if ARGV[2] == '1' then
  local current = redis.call('HGET', KEYS[1], ARGV[3])
  if not current or position > tonumber(current) then
    redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])
  end
end
return 0
`;

const applyScript = defineScript({
  SCRIPT: APPLY_SCRIPT,
  parseCommand(parser: CommandParser, keys: string[], args: string[]) {
    parser.push(String(keys.length));
    parser.pushKeys(keys);
    parser.push(...args);
  },
  transformReply: () => undefined,
});

function newClient(url: string) {
  let ready = false;
  const client = createClient({
    url,
    scripts: { applyWrites: applyScript },
    // Fail commands while Redis is unreachable rather than queue them with no bound.
    disableOfflineQueue: true,
    socket: {
      // Unreachable at start-up fails connect() with the socket error at once (the default
      // retries forever); once connected, reconnect with a capped backoff. `false` rather than
      // an Error: the client tests `instanceof Error`, which fails across realms (Jest's VM).
      reconnectStrategy: (retries) => (ready ? Math.min(50 * 2 ** retries, 2000) : false),
    },
  });
  client.once('ready', () => (ready = true));
  return client;
}

type Client = ReturnType<typeof newClient>;

const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

function toJson(key: string, value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`projection value for ${key} is not JSON`);
  return json;
}

/**
 * The projection store in Redis: one hash per key (`p` position, `v` JSON, `x` expiresAt), a
 * tombstone being a hash with only `p`, and the checkpoints in one hash beside them.
 *
 * Entries get a Redis expiry `gcGraceMs` after `expiresAt` so dead ones go away; once Redis has
 * dropped an entry its position is forgotten, so only a write older than an entry expired that
 * long ago could bring it back.
 */
export class RedisProjectionStore implements ProjectionStore {
  private readonly entryPrefix: string;
  private readonly checkpointKey: string;
  private readonly namespacePattern: string;

  private constructor(
    private readonly client: Client,
    keyPrefix: string,
    private readonly gcGraceMs: number,
  ) {
    // Braces make the namespaces of two prefixes disjoint even when one prefix starts with the
    // other (no key of '{a:}' starts with '{a:b:}' and vice versa), and form a Cluster hash tag.
    const namespace = `{${keyPrefix}}`;
    this.entryPrefix = `${namespace}k:`;
    this.checkpointKey = `${namespace}checkpoints`;
    this.namespacePattern = `${escapeGlob(namespace)}*`;
  }

  static async connect(url: string, options: RedisProjectionStoreOptions = {}): Promise<RedisProjectionStore> {
    const { keyPrefix = 'idp:proj:', gcGraceMs = 60_000 } = options;
    if (/[{}]/.test(keyPrefix)) throw new RangeError(`Redis key prefix must not contain braces: ${keyPrefix}`);
    if (!Number.isSafeInteger(gcGraceMs) || gcGraceMs < 0) throw new RangeError(`invalid gcGraceMs: ${gcGraceMs}`);
    const client = newClient(url);
    // Connection errors reach callers as failed commands; the client reconnects by itself.
    client.on('error', () => {});
    await client.connect();
    return new RedisProjectionStore(client, keyPrefix, gcGraceMs);
  }

  async apply(writes: ProjectionWrite[], position: number, checkpointName?: string): Promise<void> {
    if (!Number.isSafeInteger(position)) throw new RangeError(`projection position must be an integer: ${position}`);
    // Within one event the last write to a key wins, as all of them carry the same position.
    const prepared = new Map<string, [json: string, expiresAt: string, gcAt: string]>();
    for (const write of writes) {
      if (write.kind === 'delete') {
        prepared.set(write.key, ['', '', '']);
        continue;
      }
      const json = toJson(write.key, write.value);
      const { expiresAt } = write;
      if (expiresAt === undefined) {
        prepared.set(write.key, [json, '', '']);
        continue;
      }
      if (!Number.isFinite(expiresAt) || Math.abs(expiresAt) > MAX_TIME_MS) {
        throw new RangeError(`expiresAt of ${write.key} is not an epoch-ms time: ${expiresAt}`);
      }
      const gcAt = Math.max(0, Math.ceil(expiresAt + this.gcGraceMs));
      prepared.set(write.key, [json, String(expiresAt), String(gcAt)]);
    }
    if (prepared.size === 0 && checkpointName === undefined) return;

    const keys = [this.checkpointKey, ...[...prepared.keys()].map((key) => this.entryPrefix + key)];
    const args = [String(position), checkpointName === undefined ? '0' : '1', checkpointName ?? '', ...[...prepared.values()].flat()];
    await this.client.applyWrites(keys, args);
  }

  async get<T = unknown>(key: string, now = Date.now()): Promise<T | undefined> {
    const [json, expiresAt] = await this.client.hmGet(this.entryPrefix + key, ['v', 'x']);
    if (json == null || (expiresAt != null && Number(expiresAt) <= now)) return undefined;
    return JSON.parse(json) as T;
  }

  async checkpoint(name: string): Promise<number> {
    const position = await this.client.hGet(this.checkpointKey, name);
    return position == null ? 0 : Number(position);
  }

  async digest(now = Date.now()): Promise<string> {
    // SCAN may return a key twice; the map keeps one entry per key.
    const live = new Map<string, LiveEntry>();
    const match = `${escapeGlob(this.entryPrefix)}*`;
    for await (const batch of this.client.scanIterator({ MATCH: match, COUNT: 500 })) {
      const rows = await Promise.all(batch.map((redisKey) => this.client.hmGet(redisKey, ['v', 'x'])));
      batch.forEach((redisKey, i) => {
        const [json, expiresAt] = rows[i] ?? [];
        if (json == null) return;
        if (expiresAt != null && Number(expiresAt) <= now) return;
        const key = redisKey.slice(this.entryPrefix.length);
        live.set(key, { key, value: JSON.parse(json), expiresAt: expiresAt == null ? undefined : Number(expiresAt) });
      });
    }
    return digestLiveEntries(live.values());
  }

  async clear(): Promise<void> {
    for await (const batch of this.client.scanIterator({ MATCH: this.namespacePattern, COUNT: 500 })) {
      if (batch.length > 0) await this.client.unlink(batch);
    }
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    if (!this.client.isOpen) return;
    // While Redis is unreachable there is nothing to flush: do not wait for a reconnect.
    if (this.client.isReady) await this.client.close();
    else this.client.destroy();
  }
}
