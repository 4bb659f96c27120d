import { randomBytes } from 'node:crypto';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { AppendOutcomeUnknownError } from '../../infra/event-store/jetstream-publish.js';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { planLogStream } from '../../infra/event-store/jetstream-log-stream.js';
import { createLogger } from '../../infra/log/logger.js';
import type { RecordedEvent } from '../../infra/event-store/port.js';
import { startNats, type TestServer } from '../support/servers.js';
import { describeEventStoreContract, newEvent } from './event-store.contract.js';

let server: TestServer;
let admin: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNats();
  admin = await connect({ servers: server.url, name: 'event-store-test-admin' });
  jsm = await jetstreamManager(admin);
}, 60_000);

afterAll(async () => {
  await admin?.close();
  await server?.stop();
});

/** A JetStream stream and subject prefix no other test uses, even on a shared NATS_URL server. */
let tests = 0;
const run = randomBytes(4).toString('hex');
function freshLog(): { streamName: string; subjectPrefix: string } {
  tests++;
  return { streamName: `ES_TEST_${run}_${tests}`, subjectPrefix: `es-test.${run}.${tests}` };
}

/** Deletes the JetStream stream itself (deny_delete only forbids deleting its messages). */
async function deleteLog(streamName: string): Promise<void> {
  await jsm.streams.delete(streamName).catch(() => undefined);
}

describeEventStoreContract('jetstream', async () => {
  const log = freshLog();
  const store = await JetStreamEventStore.connect(server.url, log);
  return {
    store,
    raceTarget: { kind: 'jetstream', url: server.url, ...log },
    cleanup: async () => {
      await store.close();
      await deleteLog(log.streamName);
    },
  };
});

describe('JetStreamEventStore', () => {
  let log: { streamName: string; subjectPrefix: string };
  const opened: JetStreamEventStore[] = [];
  const open = async () => {
    const store = await JetStreamEventStore.connect(server.url, log);
    opened.push(store);
    return store;
  };

  beforeEach(() => {
    log = freshLog();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await deleteLog(log.streamName);
  });

  it('creates an immutable, file-backed stream once, and reuses it on the next connect', async () => {
    const first = await open();
    await first.append('s', [newEvent('E', {})], 'no_stream');
    const second = await open();

    const { config, state } = await jsm.streams.info(log.streamName);
    expect(config).toMatchObject({
      subjects: [`${log.subjectPrefix}.>`],
      storage: 'file',
      retention: 'limits',
      discard: 'old',
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      num_replicas: 1,
      deny_delete: true,
      deny_purge: true,
    });
    expect(state.messages).toBe(1);
    expect((await second.readStream('s')).events).toHaveLength(1);
    await expect(jsm.streams.purge(log.streamName)).rejects.toThrow();
    await expect(jsm.streams.deleteMessage(log.streamName, 1)).rejects.toThrow();
  });

  it('turns on deny_delete and deny_purge of an existing stream that lacks them, and logs it', async () => {
    await jsm.streams.add({ name: log.streamName, subjects: [`${log.subjectPrefix}.>`], deny_delete: false, deny_purge: false });
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({}, { write: (line: string) => void lines.push(JSON.parse(line)) });
    opened.push(await JetStreamEventStore.connect(server.url, { ...log, logger }));

    expect((await jsm.streams.info(log.streamName)).config).toMatchObject({ deny_delete: true, deny_purge: true, num_replicas: 1 });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 40, stream: log.streamName, changes: ['deny_delete: false -> true', 'deny_purge: false -> true'] }),
    );
    await expect(jsm.streams.purge(log.streamName)).rejects.toThrow();
  });

  it('refuses a log that still holds streams under the old one-token subject scheme, saying how to move on', async () => {
    const store = await open();
    await store.append('grant-t-1', [newEvent('E', {})], 'no_stream');
    // What an older version wrote: `<prefix>.<stream name>`, no aggregate token.
    const js = jetstream(admin);
    await js.publish(`${log.subjectPrefix}.grant-t-0`, '[]', { headers: headers() });

    await expect(JetStreamEventStore.connect(server.url, log)).rejects.toThrow(
      /holds 1 event stream\(s\) under the old subject scheme .*e\.g\. .*grant-t-0.*Export the log and import it into a fresh stream, or start with a fresh one/,
    );
    // The new scheme's subjects alone are not mistaken for old ones.
    await jsm.streams.delete(log.streamName);
    const fresh = await open();
    await fresh.append('grant-t-2', [newEvent('E', {})], 'no_stream');
    await fresh.append('keyring-t', [newEvent('E', {})], 'no_stream');
    await expect(JetStreamEventStore.connect(server.url, log).then((again) => (opened.push(again), 'opened'))).resolves.toBe('opened');
  });

  it('refuses 3 replicas on a server that is not clustered, saying what to do, for a new and an existing stream', async () => {
    await expect(JetStreamEventStore.connect(server.url, { ...log, replicas: 3 })).rejects.toThrow(
      /create JetStream stream .* with 3 replica\(s\): replicas > 1 not supported in non-clustered mode.*\?replicas=1/,
    );
    await expect(jsm.streams.info(log.streamName)).rejects.toThrow(/not found/);

    await open();
    // nats-server would accept this update and record 3 replicas it does not keep: the store refuses.
    await expect(JetStreamEventStore.connect(server.url, { ...log, replicas: 3 })).rejects.toThrow(
      /3 replicas are configured but the NATS server is not clustered.*\?replicas=1/,
    );
    expect((await jsm.streams.info(log.streamName)).config.num_replicas).toBe(1);
    await expect(JetStreamEventStore.connect(server.url, { ...log, replicas: 0 })).rejects.toThrow(RangeError);
  });

  it('refuses to lower the replicas of an existing stream', async () => {
    await open();
    const { config } = await jsm.streams.info(log.streamName);
    await jsm.streams.update(log.streamName, { ...config, num_replicas: 3 });
    await expect(JetStreamEventStore.connect(server.url, log)).rejects.toThrow(
      /has 3 replicas but 1 is configured.*Set \?replicas=3 in EVENT_STORE_URL/,
    );
  });

  it('plans the settings of an existing stream: raises replicas in a cluster, keeps what is right', () => {
    const wanted = { name: 'IDP_LOG', subjects: 'idp.log.>', replicas: 3 };
    const config = { subjects: ['idp.log.>'], num_replicas: 1, deny_delete: true, deny_purge: true } as StreamInfo['config'];
    const cluster = { name: 'c1', leader: 'n1' };
    expect(planLogStream({ config, cluster }, wanted)).toStrictEqual({
      kind: 'update',
      config: { num_replicas: 3 },
      changes: ['num_replicas: 1 -> 3'],
    });
    expect(planLogStream({ config: { ...config, num_replicas: 3 }, cluster }, wanted)).toStrictEqual({ kind: 'keep' });
    expect(planLogStream({ config: { ...config, deny_purge: false }, cluster: undefined }, { ...wanted, replicas: 1 })).toMatchObject({
      kind: 'update',
      config: { deny_purge: true },
    });
    expect(planLogStream({ config: { ...config, subjects: ['other.>'] }, cluster }, wanted)).toMatchObject({
      kind: 'refuse',
      reason: expect.stringMatching(/does not take idp\.log\.>/),
    });
  });

  it('stores one append as one message on a readable, reversible subject', async () => {
    const store = await open();
    const name = 'consent-tenant.a:user_1-web.app';
    const { events, version } = await store.append(name, [newEvent('A', {}), newEvent('B', {})], 'no_stream');

    const message = await jsm.streams.getMessage(log.streamName, {
      last_by_subj: `${log.subjectPrefix}.consent.consent-tenant%2Ea%3Auser_1-web%2Eapp`,
    });
    expect(message?.seq).toBe(Number(version));
    expect(message?.json<unknown[]>()).toHaveLength(2);
    expect(events.map((e) => [e.streamName, e.streamIndex, e.position])).toEqual([
      [name, 0, Number(version) * 1024],
      [name, 1, Number(version) * 1024 + 1],
    ]);
    expect((await store.readAll()).map((e) => e.streamName)).toEqual([name, name]);
  });

  it('refuses more than 1024 events in one append, and a stream name too long for a subject', async () => {
    const store = await open();
    const many = Array.from({ length: 1025 }, (_, i) => newEvent('E', { i }));
    await expect(store.append('s', many, 'any')).rejects.toThrow(/at most 1024 events/);
    await expect(store.append('x'.repeat(2000), [newEvent('E', {})], 'any')).rejects.toThrow(/too long/);
    await expect(store.readStream('x'.repeat(2000))).rejects.toThrow(/too long/);

    const long = 'y'.repeat(900);
    await store.append(long, Array.from({ length: 1024 }, (_, i) => newEvent('E', { i })), 'no_stream');
    expect((await store.readStream(long)).events).toHaveLength(1024);
    expect(await store.readAll()).toHaveLength(1024);
  });

  it('refuses an append larger than max_payload at once, without resending it', async () => {
    const store = await open();
    const error = await store.append('s', [newEvent('Big', { blob: 'x'.repeat(2 * 1024 * 1024) })], 'no_stream').catch((e: unknown) => e);
    // The refusal itself, not the "no answer after every resend" that resending would end in.
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/max_payload/);
    expect(error).not.toBeInstanceOf(AppendOutcomeUnknownError);
    expect((await store.readStream('s')).version).toBeNull();
  });

  it('checks the expected version against appends made through another connection', async () => {
    const a = await open();
    const b = await open();
    await a.append('s', [newEvent('First', {})], 'no_stream');
    const { version } = await a.readStream('s');
    const fromB = await b.append('s', [newEvent('FromB', {})], version ?? 'no_stream');

    await expect(a.append('s', [newEvent('Stale', {})], version ?? 'no_stream')).rejects.toMatchObject({
      name: 'WrongExpectedVersionError',
      actual: fromB.version,
    });
    await expect(a.append('s', [newEvent('Next', {})], 'any')).resolves.toMatchObject({
      events: [{ streamIndex: 2 }],
    });
    expect((await b.readStream('s')).events.map((e) => e.type)).toEqual(['First', 'FromB', 'Next']);
  });

  it("turns the server's wrong-last-sequence answer into WrongExpectedVersionError naming the winner", async () => {
    const a = await open();
    const b = await open();
    const { version } = await a.append('s', [newEvent('First', {})], 'no_stream');
    // Both look up the last message before either publishes, so the server's check decides.
    const [first, second] = await Promise.allSettled([
      a.append('s', [newEvent('FromA', {})], version),
      b.append('s', [newEvent('FromB', {})], version),
    ]);
    const won = [first, second].filter((r) => r.status === 'fulfilled');
    const lost = [first, second].filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost[0]?.reason).toMatchObject({
      name: 'WrongExpectedVersionError',
      expected: version,
      actual: (won[0] as PromiseFulfilledResult<{ version: string }>).value.version,
    });
    expect((await a.readStream('s')).events.map((e) => e.streamIndex)).toEqual([0, 1]);
  });

  it('delivers to a subscription the events appended through another connection', async () => {
    const reader = await open();
    const writer = await open();
    const received: RecordedEvent[] = [];
    const subscription = reader.subscribeToAll((event) => void received.push(event));

    const { events } = await writer.append('s', [newEvent('A', {}), newEvent('B', {})], 'no_stream');
    const deadline = Date.now() + 5000;
    while (received.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));

    expect(received).toStrictEqual(events);
    await subscription.stop();
  });

  it('ends a read of the log at its end when an append lands while the read starts, never waiting for the next one', async () => {
    const reader = await open();
    const writer = await open();
    await writer.append('s', [newEvent('A', {})], 'no_stream');
    for (let round = 0; round < 40; round++) {
      // An append from another connection racing the read's consumer, then nothing more.
      const racing = writer.append(`r${round}`, [newEvent('R', { round })], 'no_stream');
      const read = reader.readAll({ after: 1024, limit: 500 });
      const outcome = await Promise.race([read.then(() => 'read'), new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5_000))]);
      expect(outcome).toBe('read');
      await racing;
    }
    const all = await reader.readAll();
    expect(all).toHaveLength(41);
  }, 120_000);

  it('leaves no consumers behind after reads and stopped subscriptions', async () => {
    const store = await open();
    await store.append('s', [newEvent('A', {})], 'no_stream');
    await store.readStream('s');
    await store.readAll({ limit: 1 });
    const subscription = store.subscribeToAll(() => undefined);
    await subscription.stop();

    const deadline = Date.now() + 5000;
    let left = (await jsm.streams.info(log.streamName)).state.consumer_count;
    while (left > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      left = (await jsm.streams.info(log.streamName)).state.consumer_count;
    }
    expect(left).toBe(0);
  });

  it('reads short streams by walking back with direct gets, long ones with a consumer, alike', async () => {
    const writer = await open();
    const reader = await open(); // knows no tails: every read and append starts from the server
    const appendSingly = async (name: string, count: number) => {
      let version = (await writer.append(name, [newEvent('E', { i: 0 })], 'no_stream')).version;
      for (let i = 1; i < count; i++) version = (await writer.append(name, [newEvent('E', { i })], version)).version;
      return version;
    };
    for (const [name, count] of [['short', 6], ['long', 45]] as const) {
      const version = await appendSingly(name, count);
      const consumersBefore = (await jsm.streams.info(log.streamName)).state.consumer_count;
      const read = await reader.readStream(name);
      expect(read.version).toBe(version);
      expect(read.events.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(read.events.map((e) => e.streamIndex)).toEqual(Array.from({ length: count }, (_, i) => i));
      if (name === 'short') expect((await jsm.streams.info(log.streamName)).state.consumer_count).toBe(consumersBefore);
      // The reader appends after what it read, and a stale version of the writer's is refused.
      await reader.append(name, [newEvent('After', {})], read.version!);
      await expect(writer.append(name, [newEvent('Stale', {})], version)).rejects.toMatchObject({ name: 'WrongExpectedVersionError' });
      expect((await writer.readStream(name)).events.at(-1)).toMatchObject({ type: 'After', streamIndex: count });
    }
  });
});
