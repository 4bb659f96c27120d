import { randomUUID } from 'node:crypto';
import { type Bus, BusNoResponderError, BusRemoteError, BusTimeoutError } from '../../infra/bus/port.js';
import { eventually, sleep } from '../support/eventually.js';

export interface BusFixture {
  /** A new connection (think: another process) to the same broker. */
  connect(): Promise<Bus>;
  cleanup(): Promise<void>;
  /**
   * Resolves once every handle/subscribe/unsubscribe made so far, on any connection, is in force
   * at the broker. A real broker learns of them asynchronously: without this, a request sent
   * right after another connection registered its handler may overtake the registration (as
   * between two processes). Omit it when registrations take effect at once (in-process).
   */
  registered?(): Promise<void>;
}

/** Retries `check` until it stops throwing or `withinMs` has passed. */
async function timed<T>(work: Promise<T>): Promise<{ error: unknown; ms: number }> {
  const start = Date.now();
  try {
    await work;
    return { error: undefined, ms: Date.now() - start };
  } catch (error) {
    return { error, ms: Date.now() - start };
  }
}

/** The behaviour every Bus adapter must show (that of @nestjs/microservices over NATS). */
export function describeBusContract(name: string, factory: () => Promise<BusFixture>): void {
  describe(`Bus contract: ${name}`, () => {
    let fixture: BusFixture;
    let a: Bus;
    let b: Bus;
    // Subjects are unique per test, so adapters on a shared server cannot see each other's traffic.
    let prefix: string;
    const subject = (s: string) => `${prefix}.${s}`;
    /** Waits for registrations made on one connection to reach a request sent on another. */
    const registered = async (): Promise<void> => {
      await fixture.registered?.();
    };

    beforeEach(async () => {
      fixture = await factory();
      a = await fixture.connect();
      b = await fixture.connect();
      prefix = `test.${randomUUID()}`;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('request/reply', () => {
      it('reaches a handler on another connection and returns its reply', async () => {
        b.handle(subject('echo'), 'svc', (payload) => ({ echo: payload }));
        await registered();
        await expect(a.request(subject('echo'), { x: 1 })).resolves.toEqual({ echo: { x: 1 } });
      });

      it('waits for an async handler', async () => {
        b.handle(subject('slow-echo'), 'svc', async (payload) => {
          await sleep(20);
          return payload;
        });
        await registered();
        await expect(a.request(subject('slow-echo'), 'hi')).resolves.toBe('hi');
      });

      it('serialises payload and reply as JSON', async () => {
        let received: unknown;
        const reply = { at: new Date('2024-05-06T07:08:09.000Z'), gone: undefined, list: [1, { y: 'z' }] };
        b.handle(subject('json'), 'svc', (payload) => {
          received = payload;
          return reply;
        });
        await registered();
        const sent = { at: new Date('2024-01-02T03:04:05.000Z'), gone: undefined, keep: 1 };

        const answer = await a.request<Record<string, unknown>>(subject('json'), sent);

        expect(received).toEqual({ at: '2024-01-02T03:04:05.000Z', keep: 1 });
        expect(received).not.toHaveProperty('gone');
        expect(received).not.toBe(sent);
        expect(answer).toEqual({ at: '2024-05-06T07:08:09.000Z', list: [1, { y: 'z' }] });
        expect(answer).not.toHaveProperty('gone');
        expect(answer).not.toBe(reply);
      });

      it('never calls the handler inside the caller', async () => {
        let called = false;
        b.handle(subject('async'), 'svc', () => {
          called = true;
          return 'ok';
        });
        await registered();
        const reply = a.request(subject('async'), {});
        expect(called).toBe(false);
        await expect(reply).resolves.toBe('ok');
        expect(called).toBe(true);
      });

      it('gives each request to exactly one handler of a queue group, spreading the load', async () => {
        const workers = [a, b, await fixture.connect()];
        const counts = workers.map(() => 0);
        workers.forEach((bus, i) =>
          bus.handle(subject('work'), 'workers', () => {
            counts[i] = (counts[i] ?? 0) + 1;
            return i;
          }),
        );
        await registered();

        const replies = await Promise.all(Array.from({ length: 30 }, () => a.request<number>(subject('work'), null)));
        await sleep(50);

        expect(counts.reduce((sum, n) => sum + n, 0)).toBe(30);
        expect(counts.filter((n) => n > 0).length).toBeGreaterThan(1);
        workers.forEach((_, i) => expect(replies.filter((r) => r === i).length).toBe(counts[i]));
      });

      it('gives each queue group a copy and resolves with a single reply', async () => {
        const seen: string[] = [];
        a.handle(subject('fanout'), 'group-1', () => {
          seen.push('group-1');
          return 'from group-1';
        });
        b.handle(subject('fanout'), 'group-2', () => {
          seen.push('group-2');
          return 'from group-2';
        });
        await registered();

        const reply = await a.request(subject('fanout'), null);

        expect(['from group-1', 'from group-2']).toContain(reply);
        await eventually(() => expect(seen.sort()).toEqual(['group-1', 'group-2']));
      });

      it('fails at once with BusNoResponderError when nobody handles the subject', async () => {
        const { error } = await timed(a.request(subject('nobody'), {}, { timeoutMs: 2000 }));
        // The error type is the proof it did not wait for its 2 s (that would be a BusTimeoutError).
        expect(error).toBeInstanceOf(BusNoResponderError);
        expect((error as BusNoResponderError).subject).toBe(subject('nobody'));
      });

      it('fails with BusTimeoutError when no reply comes in time', async () => {
        b.handle(subject('stuck'), 'svc', () => new Promise(() => {}));
        await registered();
        const { error, ms } = await timed(a.request(subject('stuck'), {}, { timeoutMs: 100 }));
        expect(error).toBeInstanceOf(BusTimeoutError);
        expect(error).toMatchObject({ name: 'BusTimeoutError', subject: subject('stuck'), timeoutMs: 100 });
        expect(ms).toBeGreaterThanOrEqual(90); // it waited for its timeout
      });

      it('reports a throwing handler as BusRemoteError with its message', async () => {
        b.handle(subject('throws'), 'svc', () => {
          throw new Error('bad credentials');
        });
        await registered();
        const error = await a.request(subject('throws'), {}).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BusRemoteError);
        expect(error).toMatchObject({ name: 'BusRemoteError', message: 'bad credentials' });
      });

      it('reports a rejecting handler as BusRemoteError with its message', async () => {
        b.handle(subject('rejects'), 'svc', async () => {
          throw new Error('store unavailable');
        });
        await registered();
        const error = await a.request(subject('rejects'), {}).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BusRemoteError);
        expect((error as Error).message).toBe('store unavailable');
      });

      it('stops serving after the handler is unsubscribed', async () => {
        const stayingCalls: number[] = [];
        const unsubscribe = a.handle(subject('unsub'), 'svc', () => 'leaving');
        a.handle(subject('unsub'), 'svc', () => {
          stayingCalls.push(1);
          return 'staying';
        });
        unsubscribe();
        for (let i = 0; i < 4; i++) await expect(a.request(subject('unsub'), null)).resolves.toBe('staying');
        expect(stayingCalls).toHaveLength(4);

        const only = a.handle(subject('unsub-only'), 'svc', () => 'x');
        only();
        await expect(a.request(subject('unsub-only'), null)).rejects.toBeInstanceOf(BusNoResponderError);
      });
    });

    describe('publish', () => {
      it('reaches every subscriber of the subject, each with its own JSON copy', async () => {
        const got: Array<[string, Record<string, unknown>]> = [];
        const other: unknown[] = [];
        a.subscribe(subject('news'), (payload) => void got.push(['a', payload as Record<string, unknown>]));
        b.subscribe(subject('news'), (payload) => void got.push(['b', payload as Record<string, unknown>]));
        b.subscribe(subject('other'), (payload) => void other.push(payload));
        await registered();

        await a.publish(subject('news'), { at: new Date('2024-01-02T03:04:05.000Z'), gone: undefined });

        await eventually(() => expect(got.map(([who]) => who).sort()).toEqual(['a', 'b']));
        for (const [, payload] of got) expect(payload).toEqual({ at: '2024-01-02T03:04:05.000Z' });
        expect(got[0]?.[1]).not.toBe(got[1]?.[1]);
        await sleep(20);
        expect(other).toEqual([]);
      });

      it('never calls a subscriber inside the publisher', async () => {
        let called = false;
        a.subscribe(subject('async'), () => void (called = true));
        const done = a.publish(subject('async'), 1);
        expect(called).toBe(false);
        await done;
        await eventually(() => expect(called).toBe(true));
      });

      it('succeeds with no subscribers, and a failing subscriber does not reach the publisher', async () => {
        await expect(a.publish(subject('void'), 1)).resolves.toBeUndefined();
        const got: unknown[] = [];
        b.subscribe(subject('fails'), () => {
          throw new Error('subscriber failed');
        });
        b.subscribe(subject('fails'), (payload) => void got.push(payload));
        await registered();
        await expect(a.publish(subject('fails'), 2)).resolves.toBeUndefined();
        await eventually(() => expect(got).toEqual([2]));
      });

      it('stops delivering after unsubscribe', async () => {
        const gone: unknown[] = [];
        const kept: unknown[] = [];
        const unsubscribe = b.subscribe(subject('feed'), (payload) => void gone.push(payload));
        b.subscribe(subject('feed'), (payload) => void kept.push(payload));
        await registered();

        await a.publish(subject('feed'), 1);
        await eventually(() => expect(gone).toEqual([1]));
        unsubscribe();
        await a.publish(subject('feed'), 2);

        await eventually(() => expect(kept).toEqual([1, 2]));
        await sleep(20);
        expect(gone).toEqual([1]);
      });
    });

    describe('close', () => {
      it('withdraws the handlers and subscriptions of the closed connection only', async () => {
        const heardByB: unknown[] = [];
        const heardByA: unknown[] = [];
        b.handle(subject('svc'), 'svc', () => 'b');
        b.subscribe(subject('events'), (payload) => void heardByB.push(payload));
        a.subscribe(subject('events'), (payload) => void heardByA.push(payload));

        await b.close();

        await expect(a.request(subject('svc'), null)).rejects.toBeInstanceOf(BusNoResponderError);
        await a.publish(subject('events'), 'after close');
        await eventually(() => expect(heardByA).toEqual(['after close']));
        await sleep(20);
        expect(heardByB).toEqual([]);
      });

      it('fails the pending requests of the closed connection without waiting for the timeout', async () => {
        b.handle(subject('stuck'), 'svc', () => new Promise(() => {}));
        await registered();
        const pending = timed(a.request(subject('stuck'), null, { timeoutMs: 2000 }));
        await sleep(20);

        await a.close();

        const { error } = await pending;
        expect(error).toBeInstanceOf(Error);
        // Not its timeout's error: the close ended it.
        expect(error).not.toBeInstanceOf(BusTimeoutError);
        await expect(a.request(subject('stuck'), null)).rejects.toThrow();
      });

      it('leaves other connections working', async () => {
        const c = await fixture.connect();
        c.handle(subject('alive'), 'svc', () => 'still here');
        await registered();
        await a.close();
        await expect(b.request(subject('alive'), null)).resolves.toBe('still here');
      });
    });
  });
}
