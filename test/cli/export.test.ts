import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore, RecordedEvent } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { toCloudEvent } from '../../infra/event-relay/cloudevent.js';
import { EXIT } from '../../services/cli/exit-codes.js';
import { runIdp, runIdpInProcess } from '../support/cli.js';
import { writeLog } from '../support/hash-chain.js';
import { startNats, type TestServer } from '../support/servers.js';

/** `idp export`: the log as CloudEvents JSON lines, on every store it reads. */

const lines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { id: string; type: string; subject: string; idpposition: string; time: string });

async function allOf(store: EventStore): Promise<RecordedEvent[]> {
  return store.readAll();
}

describe('idp export, in-memory store', () => {
  let store: InMemoryEventStore;
  let log: RecordedEvent[];
  beforeAll(async () => {
    store = new InMemoryEventStore();
    await writeLog(store);
    log = await allOf(store);
  });

  it('prints every event as its CloudEvent, in $all order, one JSON document per line', async () => {
    const run = await runIdpInProcess(['export'], { store });
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(lines(run.stdout)).toEqual(log.map((event) => toCloudEvent(event).data));
  });

  it('--since POSITION starts after that position, --since TIME at that time', async () => {
    const after = log[2]!.position;
    const byPosition = await runIdpInProcess(['export', '--since', String(after)], { store });
    expect(lines(byPosition.stdout).map((e) => e.idpposition)).toEqual(log.slice(3).map((e) => String(e.position)));

    const fourth = lines((await runIdpInProcess(['export'], { store })).stdout)[3]!;
    const byTime = await runIdpInProcess(['export', '--since', fourth.time], { store });
    expect(lines(byTime.stdout).every((e) => Date.parse(e.time) >= Date.parse(fourth.time))).toBe(true);
    expect(lines(byTime.stdout).map((e) => e.id)).toContain(fourth.id);
  });

  it('--type filters by pattern', async () => {
    const run = await runIdpInProcess(['export', '--type', 'consent.*'], { store });
    expect(lines(run.stdout)).toHaveLength(log.length);
    const none = await runIdpInProcess(['export', '--type', 'grant.*'], { store });
    expect(none).toMatchObject({ code: EXIT.ok, stdout: '' });
  });

  it('refuses a malformed time with a usage error that names the option', async () => {
    const run = await runIdpInProcess(['export', '--since', 'yesterday'], { store });
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/--since must be an ISO 8601 time/);
    expect(run.stdout).toBe('');
  });
});

describe('idp export, the real bin', () => {
  let dir: string;
  let file: string;
  let expected: unknown[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'idp-cli-export-'));
    file = join(dir, 'idp.db');
    const store = SqliteEventStore.open(file);
    await writeLog(store);
    expected = (await allOf(store)).map((event) => toCloudEvent(event).data);
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a SQLite log read-only and prints the same lines', async () => {
    const before = createHash('sha256').update(readFileSync(file)).digest('hex');
    const run = await runIdp(['export'], { env: { EVENT_STORE_URL: `sqlite:${file}` } });
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(lines(run.stdout)).toEqual(expected);
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(before);
  });

  it('exits 3 when there is no log at the path, creating nothing', async () => {
    const missing = join(dir, 'nothing-here.db');
    const run = await runIdp(['export'], { env: { EVENT_STORE_URL: `sqlite:${missing}` } });
    expect(run.code).toBe(EXIT.notFound);
    expect(run.stderr).toContain('no log at');
    expect(() => readFileSync(missing)).toThrow();
  });

  it('answers --help for the program and the command, and exits 2 on what it does not know', async () => {
    const help = await runIdp(['--help']);
    expect(help.code).toBe(EXIT.ok);
    expect(help.stdout).toMatch(/export/);
    expect((await runIdp(['export', '--help'])).stdout).toMatch(/--since/);
    const unknown = await runIdp(['export', '--nonsense']);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(/unknown option/);
    expect((await runIdp(['no-such-command'])).code).toBe(EXIT.usage);
  });
});

describe('idp export, JetStream log', () => {
  let nats: TestServer;
  let storeDir: string;
  let expected: unknown[];
  beforeAll(async () => {
    storeDir = mkdtempSync(join(tmpdir(), 'idp-cli-export-js-'));
    nats = await startNats({ storeDir });
    const store = await JetStreamEventStore.connect(nats.url);
    await writeLog(store);
    expected = (await allOf(store)).map((event) => toCloudEvent(event).data);
    await store.close();
  }, 60_000);
  afterAll(async () => {
    await nats?.stop();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('reads the stream without creating or changing anything', async () => {
    const run = await runIdp(['export'], { env: { EVENT_STORE_URL: nats.url } });
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(lines(run.stdout)).toEqual(expected);
  });
});
