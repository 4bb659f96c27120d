import type { RequestContext } from '../../contracts/events/metadata.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { readOnlyView } from '../../infra/event-store/read-only.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { ClientRegistryApp } from '../../services/client-registry/app/client-registry.app.js';
import { EXIT } from '../../services/cli/exit-codes.js';
import { logHead } from '../../services/cli/tail/log-head.js';
import { runIdpInProcess } from '../support/cli.js';

/**
 * `idp tail` in this process against an in-memory log written by the client-registry's own
 * handler (the bin against SQLite and IDP_EVENTS: audit-bin-suite.ts), and the log head it
 * starts from.
 */
const ctx: RequestContext = { tenant: 'default', correlationId: 'tail-test', causationId: null, actor: { kind: 'admin', id: 'tail' } };
const register = (registry: ClientRegistryApp, name: string) =>
  registry.register(ctx, { client_name: name, redirect_uris: ['https://rp.example.test/cb'] });

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('idp tail, in-memory log', () => {
  it('prints only what is appended after it started, filtered by type, and exits 0 when stopped', async () => {
    const store = new InMemoryEventStore();
    const registry = new ClientRegistryApp({ store, projections: new InMemoryProjectionStore() });
    await register(registry, 'before');
    const stop = new AbortController();
    let stdout = '';
    let stderr = '';
    const running = runIdpInProcess(['tail', '--type', 'client.*'], {
      store,
      signal: stop.signal,
      onStdout: (text) => (stdout += text),
      onStderr: (text) => (stderr += text),
    });
    await until(() => stderr.includes('following'));
    const after = (await register(registry, 'after')).client.clientId;
    const lines = () =>
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { type: string; data: { clientId: string; clientName: string } });
    await until(() => lines().length > 0);
    stop.abort();
    const run = await running;
    expect(run).toMatchObject({ code: EXIT.ok });
    expect(run.stderr).toMatch(/^idp: following the log after position 1 /);
    expect(lines().map((line) => [line.type, line.data.clientName])).toEqual([['client.registered', 'after']]);
    expect(lines()[0]!.data.clientId).toBe(after);
  });

  it('--since N starts after that position; a malformed --since exits 2', async () => {
    const store = new InMemoryEventStore();
    const registry = new ClientRegistryApp({ store, projections: new InMemoryProjectionStore() });
    for (const name of ['one', 'two', 'three']) await register(registry, name);
    const stop = new AbortController();
    let stdout = '';
    const running = runIdpInProcess(['tail', '--since', '1'], { store, signal: stop.signal, onStdout: (text) => (stdout += text) });
    await until(() => stdout.split('\n').filter(Boolean).length >= 2);
    stop.abort();
    const run = await running;
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { data: { clientName: string } }).data.clientName)).toEqual(['two', 'three']);
    expect((await runIdpInProcess(['tail', '--since', 'yesterday'], { store })).code).toBe(EXIT.usage);
  });
});

describe('logHead', () => {
  it('finds the last position of logs of every length, with a number of one-event reads logarithmic in the position', async () => {
    const store = new InMemoryEventStore();
    const registry = new ClientRegistryApp({ store, projections: new InMemoryProjectionStore() });
    let reads = 0;
    const counted: EventStore = { ...readOnlyView(store), readAll: (options?: { after?: number; limit?: number }) => ((reads += 1), store.readAll(options)) };
    expect(await logHead(counted)).toBe(0);
    for (let count = 1; count <= 70; count++) {
      await register(registry, `c${count}`);
      const last = (await store.readAll()).at(-1)!.position;
      reads = 0;
      expect(await logHead(counted)).toBe(last);
      expect(reads).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(1024)) + 4);
    }
  });
});
