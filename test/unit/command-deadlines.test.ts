import { CommandDeadlineError, CommandDeadlines } from '../../infra/projections/command-deadlines.js';

/**
 * The single-timer deadline of a Redis client's commands (command-deadlines.ts, issue 12): a
 * command that is answered passes its answer or failure through; one that is not fails with
 * CommandDeadlineError after the timeout, not before; and commands of different ages each get
 * their own deadline although one timer watches them all.
 */
const never = new Promise<never>(() => {});
const after = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

it('passes an answer or a failure through', async () => {
  const deadlines = new CommandDeadlines(200);
  await expect(deadlines.within(Promise.resolve('answer'), 'get')).resolves.toBe('answer');
  const failure = new Error('refused');
  await expect(deadlines.within(Promise.reject(failure), 'get')).rejects.toBe(failure);
});

it('fails an unanswered command after its timeout, not before, naming it', async () => {
  const deadlines = new CommandDeadlines(200);
  const started = performance.now();
  const error = await deadlines.within(never, 'hmget').catch((e: unknown) => e);
  const waited = performance.now() - started;
  expect(error).toBeInstanceOf(CommandDeadlineError);
  expect((error as Error).message).toBe('hmget: no answer within 200 ms');
  expect(waited).toBeGreaterThanOrEqual(195);
  expect(waited).toBeLessThan(200 * 1.1 + 150);
});

it('gives each command its own deadline: an older one expires first, a younger one in its turn', async () => {
  const deadlines = new CommandDeadlines(300);
  const failedAt: Record<string, number> = {};
  const started = performance.now();
  const watch = (name: string) => deadlines.within(never, name).catch(() => (failedAt[name] = performance.now() - started));
  const first = watch('first');
  await after(150);
  const second = watch('second');
  // Answered in time although both neighbours time out.
  let answer!: (value: string) => void;
  const answered = deadlines.within(new Promise<string>((resolve) => (answer = resolve)), 'third');
  await after(100);
  answer('in time');
  await expect(answered).resolves.toBe('in time');
  await Promise.all([first, second]);
  expect(failedAt.first).toBeGreaterThanOrEqual(295);
  expect(failedAt.first).toBeLessThan(420);
  expect(failedAt.second).toBeGreaterThanOrEqual(445);
  expect(failedAt.second).toBeLessThan(600);
});

it('refuses a timeout that is not a positive whole number of milliseconds', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new CommandDeadlines(bad)).toThrow(RangeError);
});
