import { createClient, defineScript, ErrorReply, type CommandParser } from 'redis';
import { CommandDeadlines } from './command-deadlines.js';
import { digestLiveEntries, type LiveEntry } from './digest.js';
import { prepareWrites } from './prepare-writes.js';
import { escapeRedisGlob, redisCheckpointKey, redisEntryKeyPrefix, redisNamespace } from './redis-keys.js';
import {
  CheckpointLostError,
  checkpointOf,
  ProjectionStoreUnavailableError,
  type CheckpointedApply,
  type DigestReport,
  type ProjectionStore,
  type ProjectionWrite,
} from './port.js';

export interface RedisProjectionStoreOptions {
  /** Namespace of every key of this store; default 'idp:proj:'. Must not contain braces. */
  keyPrefix?: string;
  /**
   * How long after `expiresAt` Redis may drop an entry. Liveness is always decided from the
   * caller's `now`; this only bounds how long dead entries take space, and should exceed the
   * clock skew between the servers and Redis. Default one minute.
   */
  gcGraceMs?: number;
  /**
   * The Redis ACL user and its password (IDP_REDIS_USERNAME / IDP_REDIS_PASSWORD). Without a
   * password nothing is sent (the default user); credentials in the URL take precedence.
   */
  username?: string;
  password?: string;
  /** PEM of the CA that signed the server's certificate (IDP_REDIS_CA); only with a rediss:// URL. */
  ca?: string;
  /** How long a read or write waits for Redis before it fails as unavailable; default 5 s. */
  commandTimeoutMs?: number;
}


/**
 * KEYS[1] is the checkpoint hash, KEYS[2..n] the entry hashes. ARGV: position; mode ('0' no
 * checkpoint, '1' checkpointed and advancing (the projector), '2' checkpointed, not advancing (a
 * write-through)); checkpoint name; the position the checkpoint must be at least at ('' for no
 * check); then per entry: JSON ('' for a tombstone), expiresAt ('' for none) and the time at
 * which Redis may drop it. Answers 'lost:<checkpoint>' (nothing written), 'skipped' or 'applied'.
 *
 * A Redis expiry makes Redis forget an entry and its position. That is safe only for an entry
 * at or below the checkpoint, because every older write is then skipped by the floor; so an
 * entry gets its expiry only once the checkpoint covers it: at once for the projector (mode 1)
 * or without a checkpoint (mode 0, where nothing protects it anyway), and for a write-through's
 * entry when the projector reaches the same position.
 *
 * Redis does not roll back a script that fails half-way, so everything that could make it fail
 * is validated before it is sent. Positions are stored as sent (decimal text): Lua only compares
 * them, as doubles, which is exact for safe integers.
 */
const APPLY_SCRIPT = `
local position = tonumber(ARGV[1])
local mode = ARGV[2]
if mode ~= '0' then
  local stored = redis.call('HGET', KEYS[1], ARGV[3])
  local checkpoint = 0
  if stored then checkpoint = tonumber(stored) end
  if ARGV[4] ~= '' and checkpoint < tonumber(ARGV[4]) then return 'lost:' .. (stored or '0') end
  if position <= checkpoint then return 'skipped' end
end
local covered = mode ~= '2'
for i = 2, #KEYS do
  local key = KEYS[i]
  local at = 5 + (i - 2) * 3
  local current = redis.call('HGET', key, 'p')
  if not current or position > tonumber(current) then
    redis.call('DEL', key)
    if ARGV[at] == '' then
      redis.call('HSET', key, 'p', ARGV[1])
    elseif ARGV[at + 1] == '' then
      redis.call('HSET', key, 'p', ARGV[1], 'v', ARGV[at])
    else
      redis.call('HSET', key, 'p', ARGV[1], 'v', ARGV[at], 'x', ARGV[at + 1])
      if covered then redis.call('PEXPIREAT', key, ARGV[at + 2]) end
    end
  elseif mode == '1' and ARGV[at + 1] ~= '' and position == tonumber(current) and redis.call('PTTL', key) == -1 then
    redis.call('PEXPIREAT', key, ARGV[at + 2])
  end
end
if mode == '1' then
  redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])
end
return 'applied'
`;

const applyScript = defineScript({
  SCRIPT: APPLY_SCRIPT,
  parseCommand(parser: CommandParser, keys: string[], args: string[]) {
    parser.push(String(keys.length));
    parser.pushKeys(keys);
    parser.push(...args);
  },
  transformReply: (reply: unknown) => String(reply),
});

function newClient(url: string, credentials: { username?: string; password?: string; ca?: string }) {
  let ready = false;
  const client = createClient({
    url,
    ...(credentials.password === undefined ? {} : { username: credentials.username, password: credentials.password }),
    scripts: { applyWrites: applyScript },
    // Nothing but HELLO (with AUTH) at connect: no CLIENT SETINFO, no CLIENT MAINT_NOTIFICATIONS;
    // the ACL users may run only what the store needs (redis-acl.ts).
    disableClientInfo: true,
    maintNotifications: 'disabled',
    // Fail commands while Redis is unreachable rather than queue them with no bound.
    disableOfflineQueue: true,
    socket: {
      // rediss:// verifies the server against Node's trust store, or against this CA alone.
      ...(credentials.ca === undefined ? {} : { tls: true as const, ca: credentials.ca }),
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

/** node-redis' own default, kept: how long a command may wait for Redis before it fails as unavailable. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;


/** Replies that say "not now" rather than "no": Redis is loading its data, busy, or failing over. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * Runs Redis commands; a Redis that cannot answer now (unreachable, reconnecting, the connection
 * lost mid-command, still loading) becomes ProjectionStoreUnavailableError, which callers answer
 * with 503. A definite refusal (a wrong command, a permission) stays what it is.
 */
async function unlessUnavailable<T>(deadlines: CommandDeadlines, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await deadlines.within(run(), what);
  } catch (error) {
    if (error instanceof ErrorReply && !TRANSIENT_REPLY.test(error.message)) throw error;
    throw new ProjectionStoreUnavailableError(`Redis unavailable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}


/**
 * The projection store in Redis: one hash per key (`p` position, `v` JSON, `x` expiresAt), a
 * tombstone being a hash with only `p`, and the checkpoints in one hash beside them.
 *
 * Entries get a Redis expiry `gcGraceMs` after `expiresAt` so dead ones go away, once the
 * projection's checkpoint covers them (see APPLY_SCRIPT): Redis then forgets the entry and its
 * position, and the checkpoint floor keeps any older write from bringing it back, so Redis and
 * the in-memory store reach the same state from the same events.
 */
export class RedisProjectionStore implements ProjectionStore {
  private readonly entryPrefix: string;
  private readonly checkpointKey: string;
  private readonly namespacePattern: string;

  /**
   * The client for the hot path: without node-redis' per-command timeout (an AbortSignal.timeout
   * per command), bounded by `deadlines` instead (command-deadlines.ts). SCAN and UNLINK of the
   * administrative paths keep node-redis' own.
   */
  private readonly hot: Client;
  private readonly deadlines: CommandDeadlines;

  private constructor(
    private readonly client: Client,
    keyPrefix: string,
    private readonly gcGraceMs: number,
    commandTimeoutMs: number,
  ) {
    this.hot = client.withCommandOptions({ timeout: 0 }) as unknown as Client;
    this.deadlines = new CommandDeadlines(commandTimeoutMs);
    // Braces make the namespaces of two prefixes disjoint even when one prefix starts with the
    // other (no key of '{a:}' starts with '{a:b:}' and vice versa), and form a Cluster hash tag.
    this.entryPrefix = redisEntryKeyPrefix(keyPrefix);
    this.checkpointKey = redisCheckpointKey(keyPrefix);
    this.namespacePattern = `${escapeRedisGlob(redisNamespace(keyPrefix))}*`;
  }

  static async connect(url: string, options: RedisProjectionStoreOptions = {}): Promise<RedisProjectionStore> {
    const { keyPrefix = 'idp:proj:', gcGraceMs = 60_000, username, password, ca, commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS } = options;
    if (ca !== undefined && !url.startsWith('rediss://')) throw new RangeError('a Redis CA is for TLS: use a rediss:// URL');
    if (/[{}]/.test(keyPrefix)) throw new RangeError(`Redis key prefix must not contain braces: ${keyPrefix}`);
    if (!Number.isSafeInteger(gcGraceMs) || gcGraceMs < 0) throw new RangeError(`invalid gcGraceMs: ${gcGraceMs}`);
    if (!Number.isSafeInteger(commandTimeoutMs) || commandTimeoutMs <= 0) throw new RangeError(`invalid commandTimeoutMs: ${commandTimeoutMs}`);
    const client = newClient(url, { username, password, ca });
    // Connection errors reach callers as failed commands; the client reconnects by itself.
    client.on('error', () => {});
    await client.connect();
    return new RedisProjectionStore(client, keyPrefix, gcGraceMs, commandTimeoutMs);
  }

  async apply(writes: ProjectionWrite[], position: number, checkpointOption?: string | CheckpointedApply): Promise<void> {
    const checkpoint = checkpointOf(checkpointOption);
    // Everything that could make the script fail half-way is validated before it is sent.
    const prepared = prepareWrites(writes, position, checkpoint);
    if (prepared.size === 0 && checkpoint === undefined) return;
    const { expectAtLeast } = checkpoint ?? {};
    const entryArgs = [...prepared.values()].flatMap(({ json, expiresAt }) =>
      json === undefined
        ? ['', '', '']
        : expiresAt === undefined
          ? [json, '', '']
          : [json, String(expiresAt), String(Math.max(0, Math.ceil(expiresAt + this.gcGraceMs)))],
    );

    const keys = [this.checkpointKey, ...[...prepared.keys()].map((key) => this.entryPrefix + key)];
    const mode = checkpoint === undefined ? '0' : checkpoint.advance === false ? '2' : '1';
    const args = [String(position), mode, checkpoint?.name ?? '', expectAtLeast === undefined ? '' : String(expectAtLeast), ...entryArgs];
    const outcome = await unlessUnavailable(this.deadlines, 'apply', () => this.hot.applyWrites(keys, args));
    if (outcome.startsWith('lost:')) {
      throw new CheckpointLostError(checkpoint!.name, expectAtLeast!, Number(outcome.slice('lost:'.length)));
    }
  }

  async get<T = unknown>(key: string, now = Date.now()): Promise<T | undefined> {
    const [json, expiresAt] = await unlessUnavailable(this.deadlines, 'get', () => this.hot.hmGet(this.entryPrefix + key, ['v', 'x']));
    if (json == null || (expiresAt != null && Number(expiresAt) <= now)) return undefined;
    return JSON.parse(json) as T;
  }

  async checkpoint(name: string): Promise<number> {
    const position = await unlessUnavailable(this.deadlines, 'checkpoint', () => this.hot.hGet(this.checkpointKey, name));
    return position == null ? 0 : Number(position);
  }

  async digest(now = Date.now()): Promise<string> {
    return (await this.digestOf(now)).digest;
  }

  /**
   * SCAN over the namespace with the read commands only (the read-only `admin` ACL user may run
   * it). Not one snapshot: a caller that needs one compares the checkpoint before and after, and
   * `highestPosition` with it (idp rebuild --verify).
   */
  async digestOf(now: number, include: (key: string) => boolean = () => true): Promise<DigestReport> {
    // SCAN may return a key twice; the map keeps one entry per key.
    const live = new Map<string, LiveEntry>();
    let highestPosition = 0;
    const match = `${escapeRedisGlob(this.entryPrefix)}*`;
    for await (const batch of this.client.scanIterator({ MATCH: match, COUNT: 500 })) {
      const rows = await unlessUnavailable(this.deadlines, 'digest', () => Promise.all(batch.map((redisKey) => this.hot.hmGet(redisKey, ['v', 'x', 'p']))));
      batch.forEach((redisKey, i) => {
        const key = redisKey.slice(this.entryPrefix.length);
        if (!include(key)) return;
        const [json, expiresAt, position] = rows[i] ?? [];
        if (position != null && Number(position) > highestPosition) highestPosition = Number(position);
        if (json == null) return;
        if (expiresAt != null && Number(expiresAt) <= now) return;
        live.set(key, { key, value: JSON.parse(json), expiresAt: expiresAt == null ? undefined : Number(expiresAt) });
      });
    }
    return { digest: digestLiveEntries(live.values()), entries: live.size, highestPosition };
  }

  async clear(): Promise<void> {
    for await (const batch of this.client.scanIterator({ MATCH: this.namespacePattern, COUNT: 500 })) {
      if (batch.length > 0) await this.client.unlink(batch);
    }
  }

  async ping(): Promise<void> {
    await unlessUnavailable(this.deadlines, 'ping', () => this.hot.ping());
  }

  async close(): Promise<void> {
    if (!this.client.isOpen) return;
    // While Redis is unreachable there is nothing to flush: do not wait for a reconnect.
    if (this.client.isReady) await this.client.close();
    else this.client.destroy();
  }
}
