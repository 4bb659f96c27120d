import { ConcurrencyLimit } from '../../infra/concurrency/limit.js';
import { argon2Load, DEFAULT_ARGON2, hashPassword, verifyPassword } from '../../infra/crypto/passwords.js';

/** A task that runs until released, recording when it started. */
function gate(log: string[], name: string) {
  let release!: (value: string) => void;
  let fail!: (error: Error) => void;
  const done = new Promise<string>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  return { task: () => (log.push(name), done), release: () => release(name), fail: () => fail(new Error(`${name} failed`)) };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimit', () => {
  it('runs at most `slots` tasks at once, the others in the order they came; a failure frees its slot', async () => {
    const limit = new ConcurrencyLimit(2);
    const started: string[] = [];
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => gate(started, name)) as [ReturnType<typeof gate>, ReturnType<typeof gate>, ReturnType<typeof gate>, ReturnType<typeof gate>];
    const results = [a, b, c, d].map((g) => limit.run(g.task).catch((error: Error) => error.message));
    await turn();
    expect(started).toEqual(['a', 'b']);
    expect(limit.load()).toEqual({ running: 2, waiting: 2 });
    b.fail();
    await turn();
    expect(started).toEqual(['a', 'b', 'c']);
    a.release();
    await turn();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(limit.load()).toEqual({ running: 2, waiting: 0 });
    c.release();
    d.release();
    expect(await Promise.all(results)).toEqual(['a', 'b failed', 'c', 'd']);
    expect(limit.load()).toEqual({ running: 0, waiting: 0 });
  });

  it('a newcomer waits behind the queue even at the moment a slot frees', async () => {
    const limit = new ConcurrencyLimit(1);
    const started: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => gate(started, name)) as [ReturnType<typeof gate>, ReturnType<typeof gate>, ReturnType<typeof gate>];
    const first = limit.run(a.task);
    const second = limit.run(b.task);
    await turn();
    a.release();
    await first;
    const third = limit.run(c.task);
    await turn();
    expect(started).toEqual(['a', 'b']);
    b.release();
    c.release();
    await Promise.all([second, third]);
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('refuses a limit without a slot', () => {
    expect(() => new ConcurrencyLimit(0)).toThrow(RangeError);
    expect(() => new ConcurrencyLimit(1.5)).toThrow(RangeError);
  });
});

describe('argon2 computations are limited to the cores this process may run on', () => {
  it('never runs more at once than its slots, and every verification still answers', async () => {
    const hash = await hashPassword('correct horse', DEFAULT_ARGON2);
    const { slots } = argon2Load();
    let most = 0;
    const watcher = setInterval(() => (most = Math.max(most, argon2Load().running)), 1);
    try {
      const answers = await Promise.all(Array.from({ length: slots + 3 }, (_, i) => verifyPassword(hash, i % 2 === 0 ? 'correct horse' : 'wrong')));
      expect(answers).toEqual(Array.from({ length: slots + 3 }, (_, i) => i % 2 === 0));
    } finally {
      clearInterval(watcher);
    }
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(slots);
    expect(argon2Load()).toEqual({ running: 0, waiting: 0, slots });
  });
});
