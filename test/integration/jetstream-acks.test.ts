import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, errors, headers, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { JetStreamAcks } from '../../infra/bus/jetstream-acks.js';
import { eventually } from '../support/eventually.js';
import { startRestartableServer, type RestartableServer } from '../support/restartable-server.js';
import { freePort } from '../support/servers.js';

/**
 * JetStream publishes whose acknowledgements come back on one subscription (jetstream-acks.ts,
 * issue 12), against a real nats-server: what the log's appends and the relay's publishes rely on
 * is read from the answer as nats.js' `js.publish` reads it (the sequence, a duplicate, the
 * server's refusal with its code, nobody to answer, no answer in time), and publishes in flight
 * hold one subscription, not one each.
 */

let nats: RestartableServer;
let monitorPort: number;
let storeDir: string;
let nc: NatsConnection;
let acks: JetStreamAcks;

beforeAll(async () => {
  monitorPort = await freePort();
  storeDir = mkdtempSync(path.join(tmpdir(), 'jetstream-acks-'));
  nats = await startRestartableServer({
    binary: 'nats-server',
    install: 'Debian: apt-get install -y nats-server',
    scheme: 'nats',
    args: (port) => ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)],
  });
  nc = await connect({ servers: nats.url, name: 'acks', inboxPrefix: '_INBOX_acks' });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'ACKS', subjects: ['acks.>'] });
  acks = new JetStreamAcks(nc, '_INBOX_acks');
});

afterAll(async () => {
  acks?.close(new Error('done'));
  await nc?.close();
  await nats?.destroy();
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
});

const publish = (subject: string, msgID: string, expect: { lastSequence: number } | { lastSubjectSequence: number }, timeoutMs = 2000) =>
  acks.publish(subject, JSON.stringify({ msgID }), { headers: headers(), msgID, expect, timeoutMs });

it('answers with the stored sequence, and a resend of the same message id as a duplicate of it', async () => {
  const first = await publish('acks.a', 'a-1', { lastSubjectSequence: 0 });
  expect(first).toEqual({ stream: 'ACKS', seq: expect.any(Number), duplicate: false });
  const again = await publish('acks.a', 'a-1', { lastSubjectSequence: 0 });
  expect(again).toEqual({ stream: 'ACKS', seq: first.seq, duplicate: true });
  const next = await publish('acks.a', 'a-2', { lastSubjectSequence: first.seq });
  expect(next.seq).toBeGreaterThan(first.seq);
});

it("refuses a wrong expectation with JetStream's own error and code, naming the actual last sequence", async () => {
  const stored = await publish('acks.b', 'b-1', { lastSubjectSequence: 0 });
  const refused = await publish('acks.b', 'b-2', { lastSubjectSequence: 0 }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(JetStreamApiError);
  expect((refused as JetStreamApiError).code).toBe(JetStreamApiCodes.StreamWrongLastSequence);
  expect((refused as Error).message).toMatch(new RegExp(`wrong last sequence: ${stored.seq}$`));
  // The stream-wide expectation, as the relay publishes.
  const wrongStream = await publish('acks.c', 'c-1', { lastSequence: 1 }).catch((e: unknown) => e);
  expect(wrongStream).toBeInstanceOf(JetStreamApiError);
  expect((wrongStream as JetStreamApiError).code).toBe(JetStreamApiCodes.StreamWrongLastSequence);
});

it('fails with no responders when no stream takes the subject, and with a timeout when nobody answers', async () => {
  await expect(publish('nowhere.x', 'x-1', { lastSubjectSequence: 0 })).rejects.toBeInstanceOf(errors.NoRespondersError);
  const silent = nc.subscribe('silent.x', { callback: () => {} });
  await nc.flush();
  try {
    const started = performance.now();
    await expect(publish('silent.x', 'y-1', { lastSubjectSequence: 0 }, 300)).rejects.toBeInstanceOf(errors.TimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
  } finally {
    silent.unsubscribe();
  }
});

it('holds one subscription for 40 publishes in flight, and matches each acknowledgement to its publish in any order', async () => {
  const publisher = await connect({ servers: nats.url, name: 'acks-in-flight', inboxPrefix: '_INBOX_flight' });
  const flight = new JetStreamAcks(publisher, '_INBOX_flight');
  // A stand-in for JetStream that holds every publish until all 40 are there, then answers them
  // in reverse order, each with a sequence of its own.
  const held: Array<{ reply: string; index: number }> = [];
  const server = nc.subscribe('standin.>', {
    callback: (_error, msg) => {
      held.push({ reply: msg.reply!, index: Number(msg.subject.split('.')[1]) });
    },
  });
  await nc.flush();
  try {
    const outcomes = Promise.all(
      Array.from({ length: 40 }, (_, i) => flight.publish(`standin.${i}`, '{}', { headers: headers(), msgID: `f-${i}`, expect: { lastSubjectSequence: 0 }, timeoutMs: 5000 })),
    );
    await eventually(() => expect(held).toHaveLength(40));
    const response = await fetch(`http://127.0.0.1:${monitorPort}/connz?subs=1`);
    const connz = (await response.json()) as { connections: Array<{ name?: string; subscriptions_list?: string[] }> };
    const subscriptions = connz.connections.find((c) => c.name === 'acks-in-flight')?.subscriptions_list ?? [];
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]).toMatch(/^_INBOX_flight\.[A-Za-z0-9]+\.\*$/);
    for (const { reply, index } of [...held].reverse()) nc.publish(reply, JSON.stringify({ stream: 'STANDIN', seq: 1000 + index }));
    expect((await outcomes).map((ack) => ack.seq)).toEqual(Array.from({ length: 40 }, (_, i) => 1000 + i));
  } finally {
    server.unsubscribe();
    flight.close(new Error('done'));
    await publisher.close();
  }
});
