/**
 * The JetStream store when the connection drops between a publish and its acknowledgement
 * (issue 7): a loopback TCP proxy between the store and a real nats-server cuts the connection
 * right after a publish to the log reached the server, so that the server stores the append and
 * its acknowledgement is lost. The store must reconnect, resend, and report the stored append
 * once, as a success; and never report someone else's append as its own.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { v7 as uuidv7 } from 'uuid';
import { connect, errors, headers, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { JetStreamEventStore, type JetStreamEventStoreOptions } from '../../infra/event-store/jetstream.js';
import {
  AppendOutcomeUnknownError,
  appendMsgId,
  isOurs,
  outcomeUnknown,
  writeInFlight,
  wrongLastSequence,
} from '../../infra/event-store/jetstream-publish.js';
import { ConnectionDroppedError } from '../../infra/event-store/nats-connection-state.js';
import { createLogger } from '../../infra/log/logger.js';
import { startNats, type TestServer } from '../support/servers.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { newEvent } from './event-store.contract.js';

let server: TestServer;
let admin: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNats();
  admin = await connect({ servers: server.url, name: 'lost-ack-test-admin' });
  jsm = await jetstreamManager(admin);
}, 60_000);

afterAll(async () => {
  await admin?.close();
  await server?.stop();
});

const run = randomBytes(4).toString('hex');
let tests = 0;

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Polls until `read` gives what `done` wants (the server has stored the publish in flight). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for the server');
    await sleep(10);
  }
}

/** An event as the command handler makes it: with a UUIDv7 event id in its metadata. */
const event = (type: string) => newEvent(type, { type }, { eventId: uuidv7() });
const types = (events: { type: string }[]) => events.map((e) => e.type);

describe('JetStreamEventStore when an acknowledgement is lost', () => {
  let log: { streamName: string; subjectPrefix: string };
  let proxy: TcpProxy;
  let logs: Array<Record<string, unknown>>;
  const opened: JetStreamEventStore[] = [];

  /** A publish of an append to this test's log, as the NATS client sends it. */
  const logPublish = () => new RegExp(`(^|\\r\\n)H?PUB ${log.subjectPrefix.replace(/\./g, '\\.')}\\.`);

  const open = async (url: string, options: JetStreamEventStoreOptions = {}) => {
    const logger = createLogger({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    const store = await JetStreamEventStore.connect(url, { ...log, logger, ...options });
    opened.push(store);
    return store;
  };

  beforeEach(async () => {
    tests++;
    log = { streamName: `LOST_ACK_${run}_${tests}`, subjectPrefix: `lost-ack.${run}.${tests}` };
    logs = [];
    proxy = await startTcpProxy(server.url);
  });

  afterEach(async () => {
    await proxy.resume();
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await proxy.close();
    await jsm.streams.delete(log.streamName).catch(() => undefined);
  });

  it('reports an append whose acknowledgement was lost as stored, once (the resend is answered as a duplicate)', async () => {
    const store = await open(proxy.url);
    const direct = await open(server.url);
    const first = await store.append('grant-1', [event('First')], 'no_stream');

    // Cut once the server has stored the publish (its acknowledgement is held back meanwhile).
    const stored = gate();
    const { triggered, cut } = proxy.arm(logPublish(), { cutAfter: stored.opened });
    const appending = store.append('grant-1', [event('Redeemed'), event('TokensIssued')], first.version);
    await triggered;
    await until(() => direct.readStream('grant-1'), ({ events }) => events.length === 3);
    const cutAt = Date.now();
    stored.open();
    const appended = await appending;
    await cut;

    // Bounded by the publish policy (4.5 s), not a speed target: generous for a loaded machine.
    expect(Date.now() - cutAt).toBeLessThan(10_000);
    expect(proxy.accepted).toBe(2); // it reconnected, through the proxy
    const read = await direct.readStream('grant-1');
    expect(types(read.events)).toEqual(['First', 'Redeemed', 'TokensIssued']);
    expect(read.version).toBe(appended.version);
    expect(appended.events).toStrictEqual(read.events.slice(1));
    expect(appended.events.map((e) => [e.streamIndex, e.position])).toEqual([
      [1, Number(appended.version) * 1024],
      [2, Number(appended.version) * 1024 + 1],
    ]);
    expect(types(await direct.readAll())).toEqual(['First', 'Redeemed', 'TokensIssued']);
    expect(logs).toContainEqual(expect.objectContaining({ via: 'duplicate', seq: Number(appended.version), attempt: 2 }));
    // The store carries on over its new connection.
    expect(await store.readStream('grant-1')).toStrictEqual(read);
    await expect(store.append('grant-1', [event('Later')], appended.version)).resolves.toMatchObject({ events: [{ streamIndex: 3 }] });
  });

  it('finds its stored append when the resend is refused with "wrong last sequence" (outside the duplicate window), even after another append followed it', async () => {
    // A duplicate window of 100 ms (the least nats-server accepts) is over before the resend.
    await jsm.streams.add({
      name: log.streamName,
      subjects: [`${log.subjectPrefix}.>`],
      duplicate_window: 100_000_000,
      deny_delete: true,
      deny_purge: true,
    });
    const store = await open(proxy.url);
    const other = await open(server.url);
    const first = await store.append('grant-1', [event('First')], 'no_stream');

    const followedUp = gate();
    const { triggered, cut } = proxy.arm(logPublish(), { cutAfter: followedUp.opened });
    const appending = store.append('grant-1', [event('Redeemed')], first.version);
    await triggered;
    // Another writer sees the append that is still waiting for its acknowledgement, and follows it.
    const seen = await until(() => other.readStream('grant-1'), ({ events }) => events.length === 2);
    expect(types(seen.events)).toEqual(['First', 'Redeemed']);
    const followed = await other.append('grant-1', [event('Revoked')], seen.version!);
    // And the duplicate window (100 ms) is surely over when the store sends again.
    await sleep(300);
    followedUp.open();
    await cut;
    const appended = await appending;

    expect(appended.version).toBe(seen.version);
    expect(appended.events).toStrictEqual(seen.events.slice(1));
    const read = await other.readStream('grant-1');
    expect(types(read.events)).toEqual(['First', 'Redeemed', 'Revoked']);
    expect(read.version).toBe(followed.version);
    expect(logs).toContainEqual(expect.objectContaining({ via: 'wrong last sequence, message found', seq: Number(seen.version) }));
  });

  it("does not take another writer's append for its own when its own publish never arrived", async () => {
    const store = await open(proxy.url);
    const other = await open(server.url);
    const first = await store.append('grant-1', [event('First')], 'no_stream');

    const theirsStored = gate();
    const { triggered, cut } = proxy.arm(logPublish(), { cutAfter: theirsStored.opened, forward: false });
    const appending = store.append('grant-1', [event('Mine')], first.version);
    appending.catch(() => undefined);
    await triggered;
    const theirs = await other.append('grant-1', [event('Theirs')], first.version);
    theirsStored.open();
    await cut;

    await expect(appending).rejects.toMatchObject({ name: 'WrongExpectedVersionError', expected: first.version, actual: theirs.version });
    expect(types((await other.readStream('grant-1')).events)).toEqual(['First', 'Theirs']);
    expect(logs.filter((line) => line.via !== undefined)).toEqual([]);
  });

  it('resends a publish that never arrived, and stores it once', async () => {
    const store = await open(proxy.url);
    const direct = await open(server.url);
    const { cut } = proxy.arm(logPublish(), { cutAfter: 50, forward: false });
    const appended = await store.append('grant-1', [event('Only')], 'no_stream');
    await cut;

    const read = await direct.readStream('grant-1');
    expect(types(read.events)).toEqual(['Only']);
    expect(read.version).toBe(appended.version);
  });

  it('gives up within its deadline, saying the outcome is unknown, while the server stays away', async () => {
    const store = await open(proxy.url, { publish: { deadlineMs: 1_000 } });
    const direct = await open(server.url);
    const { triggered } = proxy.arm(logPublish(), { cutAfter: gate().opened }); // suspend() cuts
    const appending = store.append('grant-1', [event('Maybe')], 'no_stream');
    appending.catch(() => undefined);
    await triggered;
    await until(() => direct.readStream('grant-1'), ({ events }) => events.length === 1);
    proxy.suspend();

    const started = Date.now();
    await expect(appending).rejects.toBeInstanceOf(AppendOutcomeUnknownError);
    // Gives up (deadline 1 s plus one send's timeout), rather than hang; generous for a loaded machine.
    expect(Date.now() - started).toBeLessThan(8_000);
    // It was stored after all: "unknown" was the honest answer.
    expect(types((await direct.readStream('grant-1')).events)).toEqual(['Maybe']);
  });

  it('fails ping at once and closes promptly while the connection is down', async () => {
    const store = await open(proxy.url);
    await store.ping();
    proxy.suspend();
    const deadline = Date.now() + 5_000;
    while ((await store.ping().then(() => 'up', (error: Error) => error.message)) === 'up' && Date.now() < deadline) await sleep(20);
    await expect(store.ping()).rejects.toThrow(/not connected/);

    const started = Date.now();
    await store.close();
    // Does not drain a connection that is down (a drain is capped at 5 s): well under that.
    expect(Date.now() - started).toBeLessThan(4_000);
    await expect(store.ping()).rejects.toThrow(/closed/);
  });
});

describe('what a reply to a publish means', () => {
  const message = { subject: 'idp.log.grant-1', msgId: '01890a5d-ac96-774b-bcce-b302099a8057' };
  const stored = (subject: string, msgId?: string) => {
    const hdrs = headers();
    if (msgId !== undefined) hdrs.set('Nats-Msg-Id', msgId);
    return { subject, headers: hdrs };
  };

  it('takes a stored message for ours only with our subject and our Nats-Msg-Id', () => {
    expect(isOurs(stored(message.subject, message.msgId), message)).toBe(true);
    expect(isOurs(stored(message.subject, '01890a5d-ac96-774b-bcce-b302099a8058'), message)).toBe(false);
    expect(isOurs(stored(message.subject), message)).toBe(false);
    expect(isOurs(stored('idp.log.grant-2', message.msgId), message)).toBe(false);
    expect(isOurs(null, message)).toBe(false);
  });

  it('treats only an answer of the JetStream API as a definite outcome', () => {
    const wrong = new JetStreamApiError({ code: 400, err_code: 10071, description: 'wrong last sequence: 7' });
    expect(outcomeUnknown(wrong)).toBe(false);
    expect(wrongLastSequence(wrong)).toBe(7);
    expect(outcomeUnknown(new JetStreamApiError({ code: 503, err_code: 10077, description: 'maximum messages exceeded' }))).toBe(false);
    expect(outcomeUnknown(new errors.InvalidArgumentError('max_payload size exceeded'))).toBe(false);
    expect(outcomeUnknown(new ConnectionDroppedError('dropped'))).toBe(true);
    expect(outcomeUnknown(new errors.TimeoutError())).toBe(true);
    expect(outcomeUnknown(new Error('TIMEOUT'))).toBe(true);
  });

  it('asks again, rather than concluding, while a cluster still applies a write to the subject (2.11+)', () => {
    const inProcess = new JetStreamApiError({ code: 400, err_code: 10158, description: 'duplicate message id is in process' });
    const inFlight = new JetStreamApiError({ code: 400, err_code: 10164, description: 'wrong last sequence' });
    expect(writeInFlight(inProcess)).toBe(true);
    expect(writeInFlight(inFlight)).toBe(true);
    expect(writeInFlight(new JetStreamApiError({ code: 503, err_code: 10163, description: 'temporarily unavailable' }))).toBe(true);
    expect(wrongLastSequence(inFlight)).toBeUndefined();
    expect(writeInFlight(new JetStreamApiError({ code: 400, err_code: 10071, description: 'wrong last sequence: 7' }))).toBe(false);
  });

  it("makes the msg id from the first event's id, else a random one", () => {
    const eventId = uuidv7();
    expect(appendMsgId([newEvent('A', {}, { eventId }), newEvent('B', {}, { eventId: uuidv7() })])).toBe(eventId);
    const random = appendMsgId([newEvent('A', {}, { note: 'no id' })]);
    expect(random).toMatch(/^[0-9a-f-]{36}$/);
    expect(appendMsgId([newEvent('A', {}, { note: 'no id' })])).not.toBe(random);
  });
});
