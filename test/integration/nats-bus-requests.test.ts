import { Logger } from '@nestjs/common';
import { NatsBus } from '../../infra/bus/nats.js';
import { BusNoResponderError, BusRemoteError, BusTimeoutError } from '../../infra/bus/port.js';
import { eventually, sleep } from '../support/eventually.js';
import { startRestartableServer, type RestartableServer } from '../support/restartable-server.js';
import { freePort } from '../support/servers.js';

/**
 * NatsBus requests against a real nats-server (issue 12): every reply comes back on one
 * subscription of the requester (nats-replies.ts), not on an inbox subscribed and unsubscribed per
 * request as Nest's ClientNats does; and a lost connection fails the requests waiting on it at
 * once, not at their timeout. The server's monitoring endpoint (`/connz?subs=1`) shows what each
 * connection has subscribed.
 */

// The bus logs a lost connection's failures; they are what this file provokes.
Logger.overrideLogger(false);

let nats: RestartableServer;
let monitorPort: number;

beforeAll(async () => {
  monitorPort = await freePort();
  nats = await startRestartableServer({
    binary: 'nats-server',
    install: 'Debian: apt-get install -y nats-server',
    scheme: 'nats',
    args: (port) => ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)],
  });
});

afterAll(async () => {
  await nats?.destroy();
});

/** The subjects the connection named `name` has subscribed, as the server sees them. */
async function subscriptionsOf(name: string): Promise<string[]> {
  const response = await fetch(`http://127.0.0.1:${monitorPort}/connz?subs=1`);
  const connz = (await response.json()) as { connections: Array<{ name?: string; subscriptions_list?: string[] }> };
  const connection = connz.connections.find((c) => c.name === name);
  if (!connection) throw new Error(`no connection named ${name}`);
  return connection.subscriptions_list ?? [];
}

it('takes the replies of 50 concurrent requests on one subscription, and subscribes nothing per request', async () => {
  const responder = await NatsBus.connect(nats.url, { name: 'responder' });
  const requester = await NatsBus.connect(nats.url, { name: 'requester', connection: { inboxPrefix: '_INBOX_requester' } });
  try {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let arrived = 0;
    responder.handle('idp.test.square', 'svc', async (payload) => {
      arrived++;
      await gate;
      return (payload as number) ** 2;
    });
    await responder.flush();

    const replies = Promise.all(Array.from({ length: 50 }, (_, i) => requester.request<number>('idp.test.square', i)));
    await eventually(() => expect(arrived).toBe(50));
    // Every request is in flight, its reply still to come: the requester has one subscription,
    // under its own inbox prefix.
    const whileWaiting = await subscriptionsOf('requester');
    expect(whileWaiting).toHaveLength(1);
    expect(whileWaiting[0]).toMatch(/^_INBOX_requester\.[A-Za-z0-9]+\.\*$/);

    release();
    await expect(replies).resolves.toEqual(Array.from({ length: 50 }, (_, i) => i * i));
    expect(await subscriptionsOf('requester')).toEqual(whileWaiting);
  } finally {
    await requester.close();
    await responder.close();
  }
});

it('matches each reply to its own request, however the replies are ordered', async () => {
  const responder = await NatsBus.connect(nats.url, { name: 'responder-order' });
  const requester = await NatsBus.connect(nats.url, { name: 'requester-order' });
  try {
    // The later the request, the sooner its answer.
    responder.handle('idp.test.delayed', 'svc', async (payload) => {
      await sleep(60 - (payload as number) * 10);
      return { echoed: payload };
    });
    responder.handle('idp.test.fails', 'svc', (payload) => {
      throw new Error(`refused ${String(payload)}`);
    });
    await responder.flush();
    const asked = [0, 1, 2, 3, 4, 5].map((i) => requester.request('idp.test.delayed', i));
    const failed = requester.request('idp.test.fails', 'this one');
    await expect(Promise.all(asked)).resolves.toEqual([0, 1, 2, 3, 4, 5].map((i) => ({ echoed: i })));
    await expect(failed).rejects.toEqual(new BusRemoteError('idp.test.fails', 'refused this one'));
  } finally {
    await requester.close();
    await responder.close();
  }
});

it('fails the requests in flight at once when the connection drops, fails new ones while it is down, and works once it is back', async () => {
  // Its handler never answers: closing need not wait for it.
  const responder = await NatsBus.connect(nats.url, { name: 'responder-outage', closeGraceMs: 100 });
  const requester = await NatsBus.connect(nats.url, { name: 'requester-outage' });
  try {
    let arrived = 0;
    responder.handle('idp.test.hang', 'svc', () => {
      arrived++;
      return new Promise(() => {});
    });
    responder.handle('idp.test.ping', 'svc', () => 'pong');
    await responder.flush();

    const started = Date.now();
    const inFlight = requester.request('idp.test.hang', null, { timeoutMs: 20_000 }).catch((error: unknown) => error);
    await eventually(() => expect(arrived).toBe(1));
    await nats.stop();
    const failure = await inFlight;
    // Not the 20 s timeout: the drop itself ends it.
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(BusTimeoutError);
    expect((failure as Error).message).toMatch(/dropped/);
    expect(Date.now() - started).toBeLessThan(10_000);

    // While the server is down, a request fails at once rather than waiting in a buffer.
    const whileDown = Date.now();
    await expect(requester.request('idp.test.ping', null, { timeoutMs: 20_000 })).rejects.toThrow(/lost/);
    expect(Date.now() - whileDown).toBeLessThan(1_000);

    await nats.start();
    await eventually(async () => expect(await requester.request('idp.test.ping', null, { timeoutMs: 500 })).toBe('pong'), 20_000);
  } finally {
    await requester.close();
    await responder.close();
  }
}, 60_000);

it('closes gracefully: withdraws its handlers at once, and lets the ones running reply', async () => {
  const responder = await NatsBus.connect(nats.url, { name: 'responder-close' });
  const requester = await NatsBus.connect(nats.url, { name: 'requester-close' });
  try {
    let arrived = 0;
    responder.handle('idp.test.slow', 'svc', async () => {
      arrived++;
      await sleep(300);
      return 'finished';
    });
    await responder.flush();
    const inFlight = requester.request('idp.test.slow', null, { timeoutMs: 5_000 });
    await eventually(() => expect(arrived).toBe(1));
    const closed = responder.close();
    // Withdrawn before the running handler is done: a request finds nobody (one sent before the
    // server applied the withdrawal is still served, and answered).
    const later: Array<Promise<unknown>> = [];
    await eventually(() => {
      const attempt = requester.request('idp.test.slow', null, { timeoutMs: 5_000 });
      later.push(attempt.catch(() => 'no responder'));
      return expect(attempt).rejects.toBeInstanceOf(BusNoResponderError);
    });
    await expect(inFlight).resolves.toBe('finished');
    expect(await Promise.all(later)).toEqual([...Array.from({ length: arrived - 1 }, () => 'finished'), 'no responder']);
    await closed;
  } finally {
    await requester.close();
    await responder.close();
  }
});

it('closes within its grace period while the server is down, failing what it still waits for', async () => {
  const bus = await NatsBus.connect(nats.url, { name: 'closing-while-down', closeGraceMs: 300 });
  const other = await NatsBus.connect(nats.url, { name: 'asker-while-down' });
  try {
    let arrived = 0;
    bus.handle('idp.test.stuck', 'svc', () => {
      arrived++;
      return new Promise(() => {});
    });
    await bus.flush();
    const asked = other.request('idp.test.stuck', null, { timeoutMs: 20_000 }).catch((error: unknown) => error);
    await eventually(() => expect(arrived).toBe(1));
    await nats.stop();
    await expect(asked).resolves.toBeInstanceOf(Error);
    const started = Date.now();
    await bus.close();
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    await nats.start();
    await other.close();
  }
}, 30_000);
