import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createClient, RESP_TYPES } from 'redis';
import type { Haystack } from './secret-scan.js';

/**
 * What the distributed deployment keeps, read back through each server's own API for the secrets
 * scan: every message of every JetStream stream (the log `IDP_LOG`, the live stream `IDP_EVENTS`,
 * the KV buckets `KV_idp_data_keys`, `KV_idp_leases`, …) with its subject and headers, and every
 * Redis key with its value, whatever its type.
 */

/** Every JetStream stream, one haystack each: `<subject>\n<headers>\n<data>` per message. */
export async function dumpJetStream(natsUrl: string): Promise<Haystack[]> {
  const nc = await connect({ servers: natsUrl, name: 'secrets-scan' });
  try {
    const jsm = await jetstreamManager(nc);
    const haystacks: Haystack[] = [];
    for await (const info of jsm.streams.list()) {
      const chunks: Buffer[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const message = await jsm.streams.getMessage(info.config.name, { seq }).catch(() => null);
        if (!message) continue; // deleted (a KV purge, a lease that moved on)
        const headers = message.header ? [...message.header].map(([key, values]) => `${key}: ${values.join(', ')}`).join('\n') : '';
        chunks.push(Buffer.from(`${message.subject}\n${headers}\n`, 'utf8'), Buffer.from(message.data), Buffer.from('\n\0', 'utf8'));
      }
      haystacks.push({ name: `jetstream:${info.config.name}`, bytes: Buffer.concat(chunks) });
    }
    return haystacks;
  } finally {
    await nc.close();
  }
}

/** The number of messages in each JetStream stream. */
export async function jetStreamCounts(natsUrl: string): Promise<Map<string, number>> {
  const nc = await connect({ servers: natsUrl, name: 'secrets-scan' });
  try {
    return await counts(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

async function counts(jsm: JetStreamManager): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  for await (const info of jsm.streams.list()) result.set(info.config.name, info.state.messages);
  return result;
}

/** Waits until the relay has published every event of the log on `IDP_EVENTS`. */
export async function waitForLiveStream(natsUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = new Map<string, number>();
  while (Date.now() < deadline) {
    last = await jetStreamCounts(natsUrl);
    const log = last.get('IDP_LOG') ?? 0;
    if (log > 0 && (last.get('IDP_EVENTS') ?? 0) >= log) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`IDP_EVENTS did not catch up with IDP_LOG: ${JSON.stringify([...last])}`);
}

/** Every Redis key (SCAN), one haystack each: the key and its whole value, as raw bytes. */
export async function dumpRedis(redisUrl: string): Promise<Haystack[]> {
  const redis = createClient({ url: redisUrl }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await redis.connect();
  try {
    const haystacks: Haystack[] = [];
    for await (const batch of redis.scanIterator({ COUNT: 500 })) {
      for (const key of batch) {
        const name = Buffer.isBuffer(key) ? key.toString('utf8') : String(key);
        haystacks.push({ name: `redis:${name}`, bytes: Buffer.concat([Buffer.from(`${name}\n`), ...(await valueOf(redis, name))]) });
      }
    }
    return haystacks;
  } finally {
    await redis.quit();
  }
}

type Redis = ReturnType<ReturnType<typeof createClient>['withTypeMapping']>;

async function valueOf(redis: Redis, key: string): Promise<Buffer[]> {
  const type = String(await redis.type(key));
  const read = (...command: string[]) => redis.sendCommand([command[0]!, key, ...command.slice(1)]);
  switch (type) {
    case 'string':
      return flatten(await redis.get(key));
    case 'hash':
      return flatten(await read('HGETALL'));
    case 'set':
      return flatten(await read('SMEMBERS'));
    case 'zset':
      return flatten(await read('ZRANGE', '0', '-1', 'WITHSCORES'));
    case 'list':
      return flatten(await read('LRANGE', '0', '-1'));
    case 'stream':
      return flatten(await read('XRANGE', '-', '+'));
    case 'none':
      return []; // expired between SCAN and TYPE
    default:
      throw new Error(`redis key ${key} has a type the scan does not read: ${type}`);
  }
}

/** A reply of any shape (bulk strings, arrays, maps) as the raw bytes it carries, NUL-separated. */
function flatten(reply: unknown): Buffer[] {
  if (reply === null || reply === undefined) return [];
  if (Buffer.isBuffer(reply)) return [reply, Buffer.from('\0')];
  if (reply instanceof Uint8Array) return [Buffer.from(reply), Buffer.from('\0')];
  if (Array.isArray(reply)) return reply.flatMap(flatten);
  if (reply instanceof Map) return [...reply.entries()].flatMap(flatten);
  if (typeof reply === 'object') return Object.entries(reply).flatMap(flatten);
  return [Buffer.from(String(reply)), Buffer.from('\0')];
}
