/** A command that was not answered within its deadline: the server may still be working on it. */
export class CommandDeadlineError extends Error {
  override readonly name = 'CommandDeadlineError';
}

interface Waiting {
  expiresAt: number;
  what: string;
  fail: (error: Error) => void;
}

/**
 * A deadline for every command of one client, kept by a single timer (issue 12).
 *
 * node-redis bounds each command with its own `AbortSignal.timeout` (5 s by default). That timer
 * is not cleared when the command is answered: five seconds later it still fires and builds a
 * `DOMException` for nobody. With a few Redis commands per request, arming the signals and their
 * late firing took 4-6 % of a distributed service's CPU.
 *
 * Here a command waits in insertion order, all with the same timeout, so they also expire in that
 * order: one timer, running only while a command waits, looks every tenth of the timeout at the
 * oldest ones and fails those past their deadline. A command therefore fails between 1 and 1.1
 * times the timeout after it was sent. What Redis answers later is dropped. The command itself
 * stays queued in the client, as it did with node-redis' own timeout once written.
 */
export class CommandDeadlines {
  /** Insertion order is deadline order: every command gets the same timeout. */
  private readonly waiting = new Set<Waiting>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError(`invalid command timeout: ${timeoutMs}`);
  }

  /** `command`'s outcome, or CommandDeadlineError once the timeout has passed without one. */
  within<T>(command: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Waiting = { expiresAt: Date.now() + this.timeoutMs, what, fail: reject };
      this.waiting.add(entry);
      this.timer ??= setInterval(() => this.expire(), Math.max(1, Math.ceil(this.timeoutMs / 10))).unref();
      command.then(
        (value) => {
          this.settled(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.settled(entry);
          reject(error);
        },
      );
    });
  }

  private settled(entry: Waiting): void {
    this.waiting.delete(entry);
    if (this.waiting.size === 0) this.stop();
  }

  private expire(): void {
    const now = Date.now();
    for (const entry of this.waiting) {
      if (entry.expiresAt > now) break;
      this.waiting.delete(entry);
      entry.fail(new CommandDeadlineError(`${entry.what}: no answer within ${this.timeoutMs} ms`));
    }
    if (this.waiting.size === 0) this.stop();
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
