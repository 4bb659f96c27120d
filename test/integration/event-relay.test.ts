import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { v7 } from 'uuid';
import { pino, type Logger } from 'pino';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { EventMetadata } from '../../contracts/events/metadata.js';
import { subjectFor, toCloudEvent, type CloudEvent } from '../../infra/event-relay/cloudevent.js';
import { EventRelay, POSITION_HEADER, messageIdOf } from '../../infra/event-relay/relay.js';
import { checkFollowers } from '../../infra/followers/registry.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore, NewEvent, RecordedEvent } from '../../infra/event-store/port.js';
import { eventHash } from '../../services/shared/app/event-hash.js';
import { startNats, type TestServer } from '../support/servers.js';

let server: TestServer;
let admin: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNats();
  admin = await connect({ servers: server.url, name: 'event-relay-test' });
  js = jetstream(admin);
  jsm = await jetstreamManager(admin);
}, 60_000);

afterAll(async () => {
  await admin?.close();
  await server?.stop();
});

/** Stream, subject prefix and lease bucket that no other test uses, even on a shared NATS_URL server. */
interface Names {
  streamName: string;
  subjectPrefix: string;
  leaseBucket: string;
}
const run = randomBytes(4).toString('hex');
let tests = 0;
let names: Names;
const relays: EventRelay[] = [];
const buckets = new Set<string>();

beforeEach(() => {
  tests++;
  names = {
    streamName: `RELAY_TEST_${run}_${tests}`,
    subjectPrefix: `relay-test.${run}.${tests}`,
    leaseBucket: `relay_leases_${run}_${tests}`,
  };
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  await jsm.streams.delete(names.streamName).catch(() => undefined);
  for (const bucket of buckets) await (await new Kvm(admin).open(bucket)).destroy().catch(() => undefined);
  buckets.clear();
});

const silent = pino({ level: 'silent' });

async function startRelay(
  store: EventStore,
  options: { leaseBucket?: string; leaseTtlMs?: number; duplicateWindowMs?: number; logger?: Logger } = {},
): Promise<EventRelay> {
  const leaseBucket = options.leaseBucket ?? names.leaseBucket;
  buckets.add(leaseBucket);
  const relay = await EventRelay.start({
    store,
    natsUrl: server.url,
    streamName: names.streamName,
    subjectPrefix: names.subjectPrefix,
    logger: silent,
    ...options,
    leaseBucket,
  });
  relays.push(relay);
  return relay;
}

function newEvent(
  type: string,
  data: unknown,
  tenant: string,
  extra: { previousHash?: string | null; causationId?: string | null; traceparent?: string } = {},
): NewEvent {
  const metadata: EventMetadata = {
    eventId: v7(),
    time: new Date().toISOString(),
    tenant,
    correlationId: randomUUID(),
    causationId: extra.causationId ?? null,
    actor: { kind: 'client', id: 'web' },
    service: 'token-issuer',
    ...(extra.traceparent ? { traceparent: extra.traceparent } : {}),
    previousHash: extra.previousHash ?? null,
  };
  const event = { type, schemaVersion: 1, data, metadata };
  return { ...event, hash: eventHash(event) };
}

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** A code flow on a new grant stream: three events in one append, hash- and causation-chained. */
async function appendGrant(store: InMemoryEventStore, tenant = 'default'): Promise<RecordedEvent[]> {
  const issued = newEvent('authorization_code.issued', { clientId: 'web' }, tenant, { traceparent: TRACEPARENT });
  const redeemed = newEvent('authorization_code.redeemed', {}, tenant, {
    previousHash: issued.hash,
    causationId: (issued.metadata as EventMetadata).eventId,
  });
  const tokens = newEvent('tokens.issued', { scope: 'openid' }, tenant, { previousHash: redeemed.hash });
  const { events } = await store.append(`grant-${tenant}-${randomUUID()}`, [issued, redeemed, tokens], 'no_stream');
  return events;
}

/** Appends a grant every few milliseconds until stopped. */
function keepAppending(store: InMemoryEventStore): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      await appendGrant(store);
      await sleep(3);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** The same store, but its subscriptions hand every event over `delayMs` late. */
function lagging(store: EventStore, delayMs: number): EventStore {
  return {
    append: (...args) => store.append(...args),
    readStream: (name) => store.readStream(name),
    readAll: (options) => store.readAll(options),
    subscribeToAll: (handler, options) =>
      store.subscribeToAll(async (event) => {
        await sleep(delayMs);
        await handler(event);
      }, options),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const lastSeq = async () => (await jsm.streams.info(names.streamName)).state.last_seq;

interface Message {
  seq: number;
  subject: string;
  msgId: string | undefined;
  position: number;
  event: CloudEvent;
  /** The message's payload as it is on the stream. */
  raw: string;
}

/** What a consumer sees from stream sequence `from` on: every message there is now, in order. */
async function readMessages(from = 1): Promise<Message[]> {
  const consumer = await js.consumers.get(names.streamName, { opt_start_seq: from });
  const messages: Message[] = [];
  let pending = (await consumer.info(true)).num_pending;
  const deadline = Date.now() + 5000;
  while (pending > 0 && Date.now() < deadline) {
    for await (const m of await consumer.fetch({ max_messages: pending, expires: 1000 })) {
      messages.push({
        seq: m.seq,
        subject: m.subject,
        msgId: m.headers?.get('Nats-Msg-Id'),
        position: Number(m.headers?.get(POSITION_HEADER)),
        event: m.json<CloudEvent>(),
        raw: m.string(),
      });
      pending--;
    }
  }
  await consumer.delete().catch(() => undefined);
  return messages;
}

/** The stream, once the relay caught up, holds exactly the log: one message per event, in `$all` order. */
async function expectStreamHoldsLog(store: InMemoryEventStore): Promise<Message[]> {
  const log = await store.readAll();
  // One acknowledged publish per event: a relay catching up on a few hundred takes seconds on a loaded machine.
  await waitFor(async () => (await lastSeq()) >= log.length, `${log.length} messages`, 30_000);
  // Room for a stray duplicate to show up, should a relay publish one.
  await sleep(150);
  const messages = await readMessages();
  expect(messages.map((m) => m.position)).toEqual(log.map((e) => e.position));
  expect(messages.map((m) => m.seq)).toEqual(log.map((_, i) => i + 1));
  messages.forEach((message, i) => {
    const event = log[i]!;
    expect(message.subject).toBe(subjectFor(event, names.subjectPrefix));
    expect(message.msgId).toBe(messageIdOf(event));
    expect(message.event).toStrictEqual(toCloudEvent(event, names.subjectPrefix).data);
  });
  return messages;
}

describe('EventRelay', () => {
  it('publishes every event, appended before and after it starts, once and in $all order, as a CloudEvent', async () => {
    const store = new InMemoryEventStore();
    const [issued, redeemed] = await appendGrant(store);
    await appendGrant(store, 'acme');
    const relay = await startRelay(store);
    for (let i = 0; i < 5; i++) await appendGrant(store);
    await store.append(`client-default-${randomUUID()}`, [newEvent('client.registered', { clientId: 'web' }, 'default')], 'no_stream');

    const messages = await expectStreamHoldsLog(store);
    expect(messages).toHaveLength(3 + 3 + 15 + 1);

    // The mapping spelled out, so that it is checked against the spec and not only against itself.
    const meta = issued!.metadata as EventMetadata;
    expect(messages[0]!.subject).toBe(`${names.subjectPrefix}.default.grant.authorization_code.issued`);
    expect(messages[0]!.event).toStrictEqual({
      specversion: '1.0',
      id: meta.eventId,
      source: 'urn:idp:default:token-issuer',
      type: 'authorization_code.issued',
      subject: issued!.streamName,
      time: meta.time,
      datacontenttype: 'application/json',
      data: { clientId: 'web' },
      idpposition: '1',
      idpschemaversion: 1,
      idpstreamindex: 0,
      idphash: issued!.hash,
      idphashversion: 1,
      idpcorrelationid: meta.correlationId,
      idpactor: 'client:web',
      traceparent: TRACEPARENT,
    });
    expect(messages[1]!.event).toMatchObject({
      id: (redeemed!.metadata as EventMetadata).eventId,
      idpposition: '2',
      idpprevioushash: issued!.hash,
      idpcausationid: meta.eventId,
    });
    expect(messages[1]!.event).not.toHaveProperty('traceparent');
    expect(messages[3]!.subject).toBe(`${names.subjectPrefix}.acme.grant.authorization_code.issued`);
    expect(messages[3]!.event.source).toBe('urn:idp:acme:token-issuer');
    expect(messages.at(-1)!.subject).toBe(`${names.subjectPrefix}.default.client.client.registered`);

    const { config } = await jsm.streams.info(names.streamName);
    expect(config).toMatchObject({ subjects: [`${names.subjectPrefix}.>`], storage: 'file' });
    expect(config.duplicate_window).toBeGreaterThan(0);
    expect(relay.isLeader()).toBe(true);
    expect(relay.lastPublishedPosition()).toBe((await store.readAll()).at(-1)!.position);
  });

  it('publishes the allow-listed projection of each event: no password hash, no client secret hash, no data of an unknown type', async () => {
    const store = new InMemoryEventStore();
    const passwordHash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$' + randomBytes(32).toString('base64url');
    const secretHash = randomBytes(32).toString('hex');
    const usernameDigest = randomBytes(32).toString('hex');
    const profile = { alg: 'A256GCM', iv: 'aXY', ct: randomBytes(24).toString('base64url'), tag: 'dGFn' };
    await store.append(
      `user-default-${randomUUID()}`,
      [newEvent('user.registered', { sub: 'alice', usernameDigest, passwordHash, profile }, 'default')],
      'no_stream',
    );
    const client = {
      clientId: 'web',
      applicationType: 'web',
      redirectUris: ['https://rp.example/cb'],
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      scope: 'openid',
      idTokenSignedResponseAlg: 'RS256',
    };
    await store.append(`client-default-${randomUUID()}`, [newEvent('client.registered', { ...client, secretHash }, 'default')], 'no_stream');
    // A type without an allow-list (written by a newer version, or planted): published without data.
    await store.append(`user-default-${randomUUID()}`, [newEvent('user.imported', { sub: 'bob', passwordHash }, 'default')], 'no_stream');
    await startRelay(store);

    const [user, registered, unknown] = await expectStreamHoldsLog(store);
    expect(user!.event.data).toStrictEqual({ sub: 'alice' });
    expect(user!.event.idpredacted).toBe(true);
    expect(registered!.event.data).toStrictEqual(client);
    expect(registered!.event.idpredacted).toBe(true);
    expect(unknown!.event).not.toHaveProperty('data');
    expect(unknown!.event).not.toHaveProperty('datacontenttype');
    expect(unknown!.event).toMatchObject({ type: 'user.imported', idpredacted: true });
    for (const message of [user!, registered!, unknown!]) {
      for (const secret of [passwordHash, secretHash, usernameDigest, profile.ct]) expect(message.raw).not.toContain(secret);
      expect(message.raw).not.toContain('$argon2id$');
    }
  });

  it('resumes after the last published event when a relay is stopped midway and another starts', async () => {
    const store = new InMemoryEventStore();
    const appending = keepAppending(store);
    try {
      const first = await startRelay(store);
      await waitFor(async () => (await lastSeq()) >= 15, 'the first relay to publish');
      await first.stop();
      const stoppedAt = await lastSeq();
      await sleep(100);
      expect((await store.readAll()).length).toBeGreaterThan(stoppedAt);
      expect(await lastSeq()).toBe(stoppedAt);

      await startRelay(store);
      await waitFor(async () => (await lastSeq()) >= stoppedAt + 30, 'the second relay to publish');
    } finally {
      await appending.stop();
    }
    await expectStreamHoldsLog(store);
  });

  it('elects one leader among relays sharing a lease, and another takes over when it stops', async () => {
    const store = new InMemoryEventStore();
    const leaseTtlMs = 1500;
    const renewMs = leaseTtlMs / 3;
    const appending = keepAppending(store);
    try {
      const pair = await Promise.all([startRelay(store, { leaseTtlMs }), startRelay(store, { leaseTtlMs })]);
      await waitFor(() => pair.some((relay) => relay.isLeader()), 'a leader');
      const leader = pair.find((relay) => relay.isLeader())!;
      const follower = pair.find((relay) => relay !== leader)!;
      // Across several renewals, the leader stays the only one.
      for (let t = 0; t < 3 * renewMs; t += 50) {
        expect([leader.isLeader(), follower.isLeader()]).toEqual([true, false]);
        await sleep(50);
      }

      const stoppedAt = Date.now();
      await leader.stop();
      await waitFor(() => follower.isLeader(), 'the follower to take over', 2 * renewMs);
      expect(Date.now() - stoppedAt).toBeLessThan(2 * renewMs);
      expect(leader.isLeader()).toBe(false);
      const handedOver = await lastSeq();
      await waitFor(async () => (await lastSeq()) >= handedOver + 15, 'the new leader to publish');
    } finally {
      await appending.stop();
    }
    await expectStreamHoldsLog(store);
  });

  it('stops relaying at once when its lease renewal fails, and takes the lease again once it is free', async () => {
    const store = new InMemoryEventStore();
    const leaseTtlMs = 1500;
    const relay = await startRelay(store, { leaseTtlMs });
    await waitFor(() => relay.isLeader(), 'the relay to lead');
    await appendGrant(store);
    await waitFor(async () => (await lastSeq()) === 3, 'the first grant');

    // Someone else writes the lease: the relay's next update(key, value, revision) is refused.
    const lease = await new Kvm(admin).open(names.leaseBucket);
    await lease.put('event-relay', 'intruder');
    await waitFor(() => !relay.isLeader(), 'the relay to step down', leaseTtlMs / 3 + 500);
    await appendGrant(store);
    await sleep(300);
    expect(await lastSeq()).toBe(3);

    // The intruder never renews: once its entry expires (the bucket TTL), the relay leads again.
    await waitFor(() => relay.isLeader(), 'the relay to lead again', 2 * leaseTtlMs);
    await expectStreamHoldsLog(store);
  });

  it('never duplicates or reorders, even with two leaders at once, one of them lagging', async () => {
    const store = new InMemoryEventStore();
    for (let i = 0; i < 30; i++) await appendGrant(store);
    const lines: string[] = [];
    const laggardLog = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    // Separate lease buckets: both lead. The laggard sees every event 200 ms late, beyond the
    // smallest duplicate window (100 ms): deduplication cannot help, only the expected-last-sequence guard.
    const appending = keepAppending(store);
    try {
      const [prompt, laggard] = await Promise.all([
        startRelay(store, { leaseBucket: `${names.leaseBucket}_a`, duplicateWindowMs: 100 }),
        startRelay(lagging(store, 200), {
          leaseBucket: `${names.leaseBucket}_b`,
          duplicateWindowMs: 100,
          logger: laggardLog,
        }),
      ]);
      await waitFor(() => prompt.isLeader() && laggard.isLeader(), 'both relays to lead');
      await waitFor(async () => (await lastSeq()) >= 250, 'the relays to publish', 15_000);
      await sleep(400);
      // Losing races is no failure: neither relay took the other's messages for planted ones.
      expect([prompt.status().state, laggard.status().state]).not.toContain('failed');
    } finally {
      await appending.stop();
    }
    await expectStreamHoldsLog(store);
    // The laggard did publish too late, was refused, and re-synced.
    expect(lines.filter((line) => line.includes('re-syncing with the stream')).length).toBeGreaterThan(0);
  });

  it('lets a consumer resume from a stream sequence: from k it reads exactly events k..n', async () => {
    const store = new InMemoryEventStore();
    for (let i = 0; i < 10; i++) await appendGrant(store);
    await startRelay(store);
    await expectStreamHoldsLog(store);

    const k = 12;
    const before = await readMessages(1);
    const seen = before.slice(0, k - 1);
    for (let i = 0; i < 5; i++) await appendGrant(store);
    const log = await store.readAll();
    await waitFor(async () => (await lastSeq()) >= log.length, 'the new events');

    const resumed = await readMessages(k);
    expect(resumed.map((m) => m.seq)).toEqual(log.slice(k - 1).map((_, i) => k + i));
    expect(resumed.map((m) => m.event.id)).toEqual(log.slice(k - 1).map((e) => (e.metadata as EventMetadata).eventId));
    expect([...seen, ...resumed].map((m) => m.position)).toEqual(log.map((e) => e.position));
  });

  it('relays two events that share an event id, once each, without looping', async () => {
    const store = new InMemoryEventStore();
    await appendGrant(store);
    const first = newEvent('authorization_code.issued', { clientId: 'web' }, 'default');
    const twin = newEvent('authorization_code.issued', { clientId: 'web' }, 'default');
    (twin.metadata as EventMetadata).eventId = (first.metadata as EventMetadata).eventId;
    const twinEvent = { ...twin, hash: eventHash(twin) };
    await store.append(`grant-default-${randomUUID()}`, [first], 'no_stream');
    await store.append(`grant-default-${randomUUID()}`, [twinEvent], 'no_stream');
    await appendGrant(store);
    const lines: string[] = [];
    const relay = await startRelay(store, { logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) });
    const log = await store.readAll();
    await waitFor(async () => (await lastSeq()) >= log.length, `${log.length} messages`);
    await sleep(300);
    const messages = await readMessages();
    expect(messages.map((m) => m.position)).toEqual(log.map((e) => e.position));
    expect(lines.filter((line) => line.includes('re-syncing')).length).toBe(0);
    expect(relay.status().state).toBe('live');
  });

  it('stops loudly at an event it cannot publish: failed state with its position, readiness fails, no spinning', async () => {
    const store = new InMemoryEventStore();
    await appendGrant(store);
    const bad = newEvent('authorization_code.issued', { clientId: 'web' }, 'default');
    (bad.metadata as { traceparent?: string }).traceparent = 'not-a-traceparent';
    const { events: poisoned } = await store.append(`grant-default-${randomUUID()}`, [{ ...bad, hash: eventHash(bad) }], 'no_stream');
    await appendGrant(store);
    const lines: string[] = [];
    const relay = await startRelay(store, { logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) });
    await waitFor(() => relay.status().state === 'failed', 'the relay to stop');
    await sleep(500); // a spinning relay would log attempt after attempt meanwhile
    expect(relay.status()).toMatchObject({ state: 'failed', position: 3, poison: { position: poisoned[0]!.position, type: 'authorization_code.issued' } });
    expect(lines.filter((line) => line.includes('poison event')).length).toBe(1);
    expect(lines.filter((line) => line.includes('retrying')).length).toBe(0);
    expect(await lastSeq()).toBe(3); // everything before it, nothing after
    await expect(checkFollowers(60_000)).rejects.toThrow(/event-relay stopped at position 4/);
  });

  it.each([
    ['a forged position far beyond the log', (h: ReturnType<typeof headers>) => h.set(POSITION_HEADER, '999999999999')],
    ['no position at all', () => {}],
  ])('refuses to resume after a message planted on the stream (%s): it stops loudly, skipping nothing', async (_name, plant) => {
    const store = new InMemoryEventStore();
    await appendGrant(store);
    const first = await startRelay(store);
    await expectStreamHoldsLog(store);
    await first.stop();

    const h = headers();
    plant(h);
    await js.publish(`${names.subjectPrefix}.default.grant.planted`, JSON.stringify({ id: 'planted' }), { headers: h });
    const planted = await lastSeq();
    await appendGrant(store);
    const relay = await startRelay(store);
    await waitFor(() => relay.status().state === 'failed', 'the relay to stop');
    expect(relay.status().lastError).toMatch(/not published by a relay|no event/);
    await sleep(300);
    expect(await lastSeq()).toBe(planted); // nothing skipped past, nothing published after it
    await expect(checkFollowers(60_000)).rejects.toThrow(/event-relay stopped/);
  });
});
