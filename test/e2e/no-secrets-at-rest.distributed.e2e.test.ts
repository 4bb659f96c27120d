import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NatsKvDataKeyStore } from '../../infra/crypto/data-keys/nats-kv.js';
import { parseKek } from '../../infra/crypto/kek.js';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { DEMO_USER_CLAIMS } from '../../services/embedded/demo-seed.js';
import { startDistributed, type DistributedTopology } from '../support/distributed-topology.js';
import { passwordHashNeedles } from '../support/password-hash-needles.js';
import { runFlowsForSecretsScan, type FlowsResult } from '../support/secret-flows.js';
import { describeHits, forbiddenIn, kek, readTree, scan, text, unfindableNeedles, type Haystack, type Needle } from '../support/secret-scan.js';
import { dumpJetStream, dumpRedis, waitForLiveStream } from '../support/store-dumps.js';

/**
 * Issue 10's secrets scan, distributed: the same broad run of flows as the embedded scan
 * (test/support/secret-flows.ts) through the gateway of four service processes over NATS, with
 * the log in JetStream and the projections in Redis. Afterwards no plaintext secret, password,
 * token, password hash (PHC string or hash part) or KEK is found in:
 * - any JetStream stream, read message by message through the JetStream API (`IDP_LOG`, the live
 *   stream `IDP_EVENTS`, the KV buckets of the data keys and the relay's lease);
 * - the NATS storage directory on disk, while NATS runs and after it stopped;
 * - Redis, every key (SCAN) with its whole value;
 * - any line any service printed (LOG_LEVEL=trace).
 * Client secret hashes (SHA-256) are kept by design in the log and in client-registry's
 * projections; the scan shows it finds them there, and they must be on neither `IDP_EVENTS` nor a
 * log line.
 */
const USERNAME = `dave-${randomBytes(6).toString('hex')}`;
const PASSWORD = `Pw-${randomBytes(24).toString('base64url')}`;
const INITIAL_ACCESS_TOKEN = `iat-${randomBytes(24).toString('base64url')}`;
const KEK = randomBytes(32).toString('base64url');

let topology: DistributedTopology | undefined;
let natsDir: string;
let flows: FlowsResult;
const needles: Needle[] = [];
let streams: Haystack[] = [];
let redis: Haystack[] = [];
let natsFilesWhileRunning: Haystack[] = [];
let natsFilesAfterStop: Haystack[] = [];
let logs: Haystack;

beforeAll(async () => {
  natsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-scan-nats-'));
  topology = await startDistributed({
    natsStorageDir: natsDir,
    kek: KEK,
    env: { IDP_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN, LOG_LEVEL: 'trace' },
    user: { username: USERNAME, password: PASSWORD, ...DEMO_USER_CLAIMS },
  });
  flows = await runFlowsForSecretsScan({ issuer: topology.issuer, initialAccessToken: INITIAL_ACCESS_TOKEN, user: { username: USERNAME, password: PASSWORD } });
  needles.push(...flows.needles, ...kek(KEK));

  await waitForLiveStream(topology.eventStoreUrl);
  streams = await dumpJetStream(topology.eventStoreUrl);
  redis = await dumpRedis(topology.redisUrl);
  natsFilesWhileRunning = readTree(natsDir);

  // The password hashes, opened from the log with the data keys as authn does.
  const store = await JetStreamEventStore.connect(topology.eventStoreUrl);
  const dataKeys = await NatsKvDataKeyStore.connect(topology.eventStoreUrl, parseKek(KEK));
  try {
    needles.push(...(await passwordHashNeedles(store, dataKeys, 'default', flows.subs)));
  } finally {
    await store.close();
    await dataKeys.close();
  }

  await topology.stop();
  logs = { name: 'service logs', bytes: Buffer.from(topology.logs(), 'utf8') };
  topology = undefined;
  natsFilesAfterStop = readTree(natsDir);
}, 300_000);

afterAll(async () => {
  await topology?.stop();
  if (natsDir) fs.rmSync(natsDir, { recursive: true, force: true });
}, 60_000);

const named = (name: string) => streams.filter((s) => s.name === `jetstream:${name}`);

describe('no secrets at rest (distributed: JetStream, NATS storage, Redis, service logs)', () => {
  it('the scan finds what is known to be there (so an empty scan cannot pass)', () => {
    expect(streams.map((s) => s.name)).toEqual(
      expect.arrayContaining(['jetstream:IDP_LOG', 'jetstream:IDP_EVENTS', 'jetstream:KV_idp_data_keys']),
    );
    expect(redis.length).toBeGreaterThan(10);
    expect(natsFilesWhileRunning.length).toBeGreaterThan(0);
    expect(needles.filter((n) => n.label.startsWith('password hash')).length).toBeGreaterThan(0);
    const controlNeedles = flows.controls.map((c) => text(c.label, c.value));
    const labels = [...new Set(flows.controls.map((c) => c.label))].sort();
    for (const haystacks of [named('IDP_LOG'), named('IDP_EVENTS'), natsFilesWhileRunning, natsFilesAfterStop]) {
      expect([...new Set(scan(haystacks, controlNeedles).map((h) => h.needle))].sort()).toEqual(labels);
    }
    // Client ids are projection keys in Redis.
    expect(scan(redis, controlNeedles.filter((n) => n.label.endsWith('client_id'))).length).toBeGreaterThan(0);
    // The client secrets' SHA-256 is kept by design in the log and the projections: the scan sees it.
    const storedHashes = needles.filter((n) => n.kind === 'stored-hash');
    expect(storedHashes.length).toBeGreaterThanOrEqual(4);
    expect(new Set(scan(named('IDP_LOG'), storedHashes).map((h) => h.needle)).size).toBe(storedHashes.length);
    expect(scan(redis, storedHashes).length).toBeGreaterThan(0);
    expect(scan([logs], [text('gateway ready line', '--- gateway ---')])).not.toHaveLength(0);
    expect(unfindableNeedles(needles)).toEqual([]);
  });

  it('no secret or password hash in any JetStream stream (IDP_LOG, KV buckets), read through the API', () => {
    const others = streams.filter((s) => s.name !== 'jetstream:IDP_EVENTS');
    expect(describeHits(scan(others, forbiddenIn('store', needles)))).toEqual([]);
  });

  it('nothing of a secret, not even a client secret hash, on the live stream IDP_EVENTS', () => {
    expect(named('IDP_EVENTS')[0]!.bytes.length).toBeGreaterThan(0);
    expect(describeHits(scan(named('IDP_EVENTS'), forbiddenIn('live-stream', needles)))).toEqual([]);
  });

  it('no secret or password hash in the NATS storage directory, while NATS runs and after it stopped', () => {
    expect(describeHits(scan(natsFilesWhileRunning, forbiddenIn('store', needles)))).toEqual([]);
    expect(describeHits(scan(natsFilesAfterStop, forbiddenIn('store', needles)))).toEqual([]);
  });

  it('no secret or password hash in Redis (every key, every value)', () => {
    expect(describeHits(scan(redis, forbiddenIn('store', needles)))).toEqual([]);
  });

  it('no secret, password hash or client secret hash in any line a service printed (LOG_LEVEL=trace)', () => {
    expect(describeHits(scan([logs], forbiddenIn('logs', needles)))).toEqual([]);
  });
});
