import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore, RecordedEvent } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import type { LiveDigest } from '../../infra/projections/live-digest.js';
import { EXIT } from '../../services/cli/exit-codes.js';
import { runIdp, runIdpInProcess } from '../support/cli.js';
import { startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';
import { verbatim } from '../support/hash-chain.js';
import { PROJECTIONS } from '../support/projection-rebuild.js';
import { runFlowsForSecretsScan } from '../support/secret-flows.js';
import { startNats, type TestServer } from '../support/servers.js';

/**
 * `idp rebuild`: the log replayed into fresh projections gives, per projection, the very digest
 * of the live state at the same position and the same `now`; against a running embedded server
 * (its in-memory projections, GET /projections/digest), on the SQLite, in-memory and JetStream
 * logs alike. The distributed case (Redis) is test/cli/rebuild-distributed.test.ts.
 */

interface Row {
  projection: string;
  position: number;
  events: number;
  entries: number;
  digest: string;
  live?: string;
  match?: boolean;
}

const NAMES = ['authn', 'client-registry', 'token-issuer'];
const USER = { username: 'rebuild-user', password: 'rebuild-password-1234' };
const INITIAL_ACCESS_TOKEN = 'rebuild-initial-access-token-0123456789';

async function copyInto(target: EventStore, log: RecordedEvent[]): Promise<void> {
  for (const event of log) await target.append(event.streamName, [verbatim(event)], 'any');
}

async function liveDigests(issuer: string, now: number): Promise<LiveDigest[]> {
  const response = await fetch(`${issuer}/projections/digest?now=${now}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { projections: LiveDigest[] }).projections;
}

let server: EmbeddedProcess;
let dbFile: string;
let log: RecordedEvent[];
let workDir: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'idp-cli-rebuild-'));
  server = await startEmbeddedProcess({
    env: { IDP_DEMO_USERNAME: USER.username, IDP_DEMO_PASSWORD: USER.password, IDP_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN },
  });
  await runFlowsForSecretsScan({ issuer: server.issuer, initialAccessToken: INITIAL_ACCESS_TOKEN, user: USER });
  dbFile = join(server.dataDir, 'idp.db');
  const store = SqliteEventStore.openReadOnly(dbFile);
  log = await store.readAll();
  await store.close();
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (server) rmSync(server.dataDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});

describe('idp rebuild, the real bin on the SQLite log of a running embedded server', () => {
  const env = () => ({ EVENT_STORE_URL: `sqlite:${dbFile}` });

  it('replays every projection and prints events, entries and digest', async () => {
    const run = await runIdp(['rebuild', '--json'], { env: env() });
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    const rows = JSON.parse(run.stdout) as Row[];
    expect(rows.map((r) => r.projection)).toEqual(NAMES);
    for (const row of rows) {
      expect(row.digest).toMatch(/^[0-9a-f]{64}$/);
      expect(row.entries).toBeGreaterThan(0);
      expect(row.position).toBeGreaterThanOrEqual(log[log.length - 1]!.position);
    }
    const table = await runIdp(['rebuild'], { env: env() });
    expect(table.stdout).toMatch(/^PROJECTION\s+POSITION\s+EVENTS\s+ENTRIES\s+DIGEST\n/);
  }, 60_000);

  it('--verify against the live server: every digest is the live one', async () => {
    const run = await runIdp(['rebuild', '--verify', '--server', server.issuer, '--json'], { env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.ok);
    const rows = JSON.parse(run.stdout) as Row[];
    expect(rows.map((r) => [r.projection, r.match])).toEqual(NAMES.map((n) => [n, true]));
    expect(rows.every((r) => r.live === r.digest)).toBe(true);
  }, 60_000);

  it('--projection picks one; an unknown one is a usage error', async () => {
    const run = await runIdp(['rebuild', '--projection', 'authn', '--verify', '--server', server.issuer, '--json'], { env: env() });
    expect(run.code).toBe(EXIT.ok);
    expect((JSON.parse(run.stdout) as Row[]).map((r) => r.projection)).toEqual(['authn']);

    const unknown = await runIdp(['rebuild', '--projection', 'sessions'], { env: env() });
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(/unknown projection "sessions": use one of authn, client-registry, token-issuer/);
    expect(unknown.stdout).toBe('');
  }, 60_000);

  it('--verify without a live state to compare with is a usage error that says what to give', async () => {
    const run = await runIdp(['rebuild', '--verify'], { env: env() });
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/--server URL/);
    expect(run.stderr).toMatch(/--redis URL/);
    expect(run.stdout).toBe('');
  });

  it('--verify FAILS (exit 1) when the live state is not what the log rebuilds: a copy of the log that lost an event', async () => {
    const copy = join(workDir, 'lost-one.db');
    copyFileSync(dbFile, copy);
    // WAL content not yet checkpointed lives beside the file: copy it too.
    for (const suffix of ['-wal', '-shm']) {
      try {
        copyFileSync(dbFile + suffix, copy + suffix);
      } catch {
        // no such file: nothing pending
      }
    }
    const db = new Database(copy);
    const revoked = db.prepare("SELECT position FROM events WHERE type = 'grant.revoked' ORDER BY position LIMIT 1").get() as { position: number } | undefined;
    expect(revoked).toBeDefined();
    db.prepare('DELETE FROM events WHERE position = ?').run(revoked!.position);
    db.close();

    const run = await runIdp(['rebuild', '--verify', '--server', server.issuer], { env: { EVENT_STORE_URL: `sqlite:${copy}` } });
    expect(run.code).toBe(EXIT.failed);
    expect(run.stdout).toMatch(/token-issuer .*DIFFERS/);
    expect(run.stdout).toMatch(/authn .* yes/);
    expect(run.stderr).toMatch(/the rebuilt state differs from the live state .*: token-issuer/);
  }, 60_000);
});

describe('the live digest route (GET /projections/digest)', () => {
  it('reports each projection settled at one position with its checkpoints', async () => {
    const digests = await liveDigests(server.issuer, Date.now());
    expect(digests.map((d) => d.name)).toEqual(NAMES);
    for (const digest of digests) {
      expect(digest.position).toEqual(expect.any(Number));
      expect(Object.values(digest.checkpoints).every((p) => p === digest.position)).toBe(true);
      expect(digest.digest).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('answers only this host directly: a request through a proxy (Forwarded / X-Forwarded-For) is refused', async () => {
    for (const header of [{ 'x-forwarded-for': '127.0.0.1' }, { forwarded: 'for=127.0.0.1' }] as Array<Record<string, string>>) {
      const response = await fetch(`${server.issuer}/projections/digest`, { headers: header });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: 'forbidden' });
    }
  });

  it('refuses a `now` that is not epoch milliseconds', async () => {
    for (const now of ['yesterday', '-1', '1e12', '']) {
      const response = await fetch(`${server.issuer}/projections/digest?now=${encodeURIComponent(now)}`);
      expect(response.status).toBe(400);
    }
  });
});

describe('idp rebuild in-process on an in-memory log, and on JetStream', () => {
  let nats: TestServer;
  let natsDir: string;
  beforeAll(async () => {
    natsDir = mkdtempSync(join(tmpdir(), 'idp-cli-rebuild-js-'));
    nats = await startNats({ storeDir: natsDir });
  }, 60_000);
  afterAll(async () => {
    await nats?.stop();
    rmSync(natsDir, { recursive: true, force: true });
  });

  it('the same events in memory rebuild to the live server digests at the same now', async () => {
    const store = new InMemoryEventStore();
    await copyInto(store, log);
    const now = Date.now();
    const live = await liveDigests(server.issuer, now);
    // The live state may have moved on since `log` was read (nothing runs now, but be exact).
    expect(live.every((d) => d.position === log[log.length - 1]!.position)).toBe(true);
    const run = await runIdpInProcess(['rebuild', '--json'], { store, now: () => new Date(now) });
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    const rows = JSON.parse(run.stdout) as Row[];
    expect(rows.map((r) => [r.projection, r.digest, r.entries])).toEqual(live.map((d) => [d.name, d.digest, d.entries]));
    // Each counts the events of the types it reads; the others change nothing and are skipped unread.
    expect(rows.map((r) => r.events)).toEqual(PROJECTIONS.map((p) => log.filter((e) => p.types.has(e.type)).length));
    expect(rows.every((r) => r.events > 0 && r.events < log.length && r.position === log[log.length - 1]!.position)).toBe(true);
  });

  it('a JetStream log with the same events rebuilds to the same digests', async () => {
    const writer = await JetStreamEventStore.connect(nats.url);
    await copyInto(writer, log);
    await writer.close();
    const reader = await JetStreamEventStore.connect(nats.url, { readOnly: true });
    try {
      const now = Date.now();
      const live = await liveDigests(server.issuer, now);
      const run = await runIdpInProcess(['rebuild', '--json'], { store: reader, now: () => new Date(now) });
      expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
      const rows = JSON.parse(run.stdout) as Row[];
      expect(rows.map((r) => [r.projection, r.digest])).toEqual(live.map((d) => [d.name, d.digest]));
      // JetStream cannot skip by type: it reads every event, and counts the same.
      expect(rows.map((r) => r.events)).toEqual(PROJECTIONS.map((p) => log.filter((e) => p.types.has(e.type)).length));
    } finally {
      await reader.close();
    }
  }, 60_000);
});
