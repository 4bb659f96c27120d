import { connect, errors, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { JETSTREAM_NAMES } from '../../bus/jetstream-names.js';
import type { NatsConnectionOptions } from '../../bus/nats-connection-options.js';
import type { Sealed } from '../envelope.js';
import { DataKeyDestroyedError, DataKeysUnavailableError, DataKeyWrapper, type DataKeyStore } from './port.js';

type Entry = { wrapped: Sealed } | { destroyed: true };

const BUCKET = JETSTREAM_NAMES.dataKeysBucket;

/**
 * Per-person data keys in a NATS KV bucket (the distributed mode, DESIGN §4). Keys are stored
 * wrapped under the KEK; `create` is a compare-and-set, so two replicas racing for the same
 * subject agree on one key. History is 1: destroying overwrites the only stored value.
 */
export class NatsKvDataKeyStore implements DataKeyStore {
  private readonly wrapper: DataKeyWrapper;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    kek: Buffer,
  ) {
    this.wrapper = new DataKeyWrapper(kek);
  }

  /**
   * `replicas` (default 1): the bucket's replicas when it is created. Data keys should be as
   * durable as the log (README, Durability): a lost key makes the events it seals unreadable.
   * An existing bucket with fewer replicas is refused rather than silently used.
   */
  static async connect(
    url: string,
    kek: Buffer,
    options: { bucket?: string; replicas?: number; connection?: NatsConnectionOptions } = {},
  ): Promise<NatsKvDataKeyStore> {
    // A process outlives a NATS outage: keep reconnecting (nats.js gives up after 10 tries).
    const nc = await connect({ ...options.connection, servers: url, name: 'idp-data-keys', maxReconnectAttempts: -1 });
    try {
      const bucket = options.bucket ?? BUCKET;
      const replicas = options.replicas ?? 1;
      const kv = await new Kvm(nc).create(bucket, { history: 1, replicas }).catch((error: unknown) => {
        throw new Error(
          `cannot open the KV bucket ${bucket} with ${replicas} replica(s): ${(error as Error).message} ` +
            '(a bucket that exists with other settings, or more replicas than a non-clustered server has)',
          { cause: error },
        );
      });
      const { replicas: actual } = await kv.status();
      if (actual < replicas) throw new Error(`KV bucket ${bucket} has ${actual} replica(s), ${replicas} asked: raise them with \`nats stream edit KV_${bucket} --replicas ${replicas}\``);
      return new NatsKvDataKeyStore(nc, kv, kek);
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /** The bucket's replicas, as the server reports them. */
  async replicas(): Promise<number> {
    return (await this.kv.status()).replicas;
  }

  async getOrCreate(tenant: string, subject: string): Promise<Buffer> {
    const key = kvKey(tenant, subject);
    let entry = await this.read(key);
    if (!entry) {
      try {
        await this.kv.create(key, JSON.stringify({ wrapped: this.wrapper.newWrappedKey(tenant, subject) }));
      } catch {
        // Lost the race (or the key exists): whatever is stored now is the key.
      }
      entry = await this.read(key);
      if (!entry) throw new Error(`data key of ${subject} could not be created`);
    }
    if ('destroyed' in entry) throw new DataKeyDestroyedError(tenant, subject);
    return this.wrapper.unwrap(tenant, subject, entry.wrapped);
  }

  async get(tenant: string, subject: string): Promise<Buffer | undefined> {
    const entry = await this.read(kvKey(tenant, subject));
    if (!entry || 'destroyed' in entry) return undefined;
    return this.wrapper.unwrap(tenant, subject, entry.wrapped);
  }

  async destroy(tenant: string, subject: string): Promise<void> {
    await unlessUnavailable(() => this.kv.put(kvKey(tenant, subject), JSON.stringify({ destroyed: true })));
  }

  async ping(): Promise<void> {
    await this.kv.status();
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }

  private async read(key: string): Promise<Entry | undefined> {
    const entry = await unlessUnavailable(() => this.kv.get(key));
    if (!entry || entry.operation !== 'PUT') return undefined;
    return entry.json<Entry>();
  }
}

/**
 * A KV request that got no answer (the server unreachable, the connection lost or reconnecting)
 * becomes DataKeysUnavailableError; an answer of the server (a refusal) stays what it is.
 */
async function unlessUnavailable<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const noAnswer =
      error instanceof errors.TimeoutError ||
      error instanceof errors.RequestError ||
      error instanceof errors.ConnectionError ||
      error instanceof errors.ClosedConnectionError ||
      error instanceof errors.NoRespondersError;
    if (!noAnswer) throw error;
    throw new DataKeysUnavailableError(`data keys unavailable: ${error.message}`, { cause: error });
  }
}

/** KV keys allow [-/_=.a-zA-Z0-9]; tenant ids are [a-z0-9_], subjects are encoded to be safe. */
function kvKey(tenant: string, subject: string): string {
  return `${tenant}.${Buffer.from(subject, 'utf8').toString('base64url')}`;
}
