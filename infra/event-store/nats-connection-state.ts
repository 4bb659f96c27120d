import type { NatsConnection } from '@nats-io/transport-node';

/** A request given up because the connection dropped while it waited: its reply can no longer come. */
export class ConnectionDroppedError extends Error {
  override readonly name = 'ConnectionDroppedError';
}

/**
 * The state of one NATS connection, for the JetStream store (jetstream-publish.ts, `ping`).
 * Replies travel on the connection that sent the request, so a request in flight when the
 * connection drops will never be answered: it is given up at once instead of after its timeout.
 * And the client (@nats-io/nats-core 3.x, `ProtocolHandler.prepare`) discards what it buffered
 * while disconnected when it dials again, so a resend waits until the connection is back.
 */
export class ConnectionState {
  private up = true;
  private ended = false;
  private readonly onDrop = new Set<() => void>();
  private readonly onChange = new Set<() => void>();

  constructor(private readonly nc: NatsConnection) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          this.up = false;
          for (const listener of [...this.onDrop]) listener();
        } else if (status.type === 'reconnect') {
          this.up = true;
        } else continue;
        this.changed();
      }
    })().finally(() => this.end());
    void nc.closed().finally(() => this.end());
  }

  get connected(): boolean {
    return this.up && !this.closed;
  }

  /** Closed or closing (`close()` drains first): nothing sent now would be answered. */
  get closed(): boolean {
    return this.ended || this.nc.isClosed() || this.nc.isDraining();
  }

  /** Resolves true once connected (at once if connected), false if the connection closes or `deadline` (epoch ms) passes first. */
  async whenConnected(deadline: number): Promise<boolean> {
    while (!this.connected) {
      const left = deadline - Date.now();
      if (this.closed || left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.onChange.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.onChange.add(done);
      });
    }
    return true;
  }

  /** `work`, or ConnectionDroppedError as soon as the connection drops before it settles. */
  async unlessDropped<T>(work: Promise<T>): Promise<T> {
    let drop!: () => void;
    const dropped = new Promise<never>((_, reject) => {
      drop = () => reject(new ConnectionDroppedError('the NATS connection dropped before the answer came'));
    });
    this.onDrop.add(drop);
    try {
      return await Promise.race([work, dropped]);
    } finally {
      this.onDrop.delete(drop);
      // Given up on: its late failure (a timeout) has no one left to tell.
      work.catch(() => undefined);
    }
  }

  private changed(): void {
    const listeners = [...this.onChange];
    this.onChange.clear();
    for (const listener of listeners) listener();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.up = false;
    for (const listener of [...this.onDrop]) listener();
    this.changed();
  }
}
