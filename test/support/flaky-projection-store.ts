import type { CheckpointedApply, DigestReport, ProjectionStore, ProjectionWrite } from '../../infra/projections/port.js';

/**
 * Fault injection around a real projection store: while `down`, every call fails the way an
 * unreachable Redis does (the end-to-end tests stop a real redis-server; this is for fast,
 * deterministic unit tests of the followers).
 */
export class FlakyProjectionStore implements ProjectionStore {
  down = false;
  failures = 0;
  /** Every apply that reached the inner store: its position and how many writes it carried. */
  readonly applied: Array<{ position: number; writes: number }> = [];

  constructor(private readonly inner: ProjectionStore) {}

  private check(): void {
    if (this.down) {
      this.failures++;
      throw new Error('projection store unreachable (injected)');
    }
  }

  async apply(writes: ProjectionWrite[], position: number, checkpoint?: string | CheckpointedApply): Promise<void> {
    this.check();
    this.applied.push({ position, writes: writes.length });
    return this.inner.apply(writes, position, checkpoint);
  }
  async get<T = unknown>(key: string, now?: number): Promise<T | undefined> {
    this.check();
    return this.inner.get<T>(key, now);
  }
  async checkpoint(name: string): Promise<number> {
    this.check();
    return this.inner.checkpoint(name);
  }
  async digest(now?: number): Promise<string> {
    this.check();
    return this.inner.digest(now);
  }
  async digestOf(now: number, include?: (key: string) => boolean): Promise<DigestReport> {
    this.check();
    return this.inner.digestOf(now, include);
  }
  async clear(): Promise<void> {
    this.check();
    return this.inner.clear();
  }
  async ping(): Promise<void> {
    this.check();
    return this.inner.ping();
  }
  async close(): Promise<void> {
    return this.inner.close();
  }
}
