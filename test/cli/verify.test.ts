import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore, RecordedEvent } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { EXIT } from '../../services/cli/exit-codes.js';
import type { VerifyRunReport } from '../../services/cli/integrity/verify-run.js';
import { sealKeyFromSeed } from '../../services/shared/integrity/seal-key.js';
import { LogSealer } from '../../services/token-issuer/app/log-sealer.js';
import { runIdp, runIdpInProcess } from '../support/cli.js';
import { consentStream, ctxFor, grantConsent, writeLog } from '../support/hash-chain.js';
import { startNats, type TestServer } from '../support/servers.js';

/** `idp verify` on memory (in process) and JetStream (the bin), and `idp archive` on SQLite. */
const logger = pino({ level: 'silent' });
const key = sealKeyFromSeed(randomBytes(32));

/** Seals what is in `store` now, as the token-issuer's sealer does, writing the anchor to `anchorFile`. */
async function seal(store: EventStore, anchorFile?: string): Promise<RecordedEvent> {
  const sealer = new LogSealer({ store, tenant: 'acme', key, anchorFile, intervalMs: 0, everyEvents: 1_000_000, logger, clock: () => new Date() });
  sealer.start();
  try {
    const sealed = await sealer.sealNow();
    if (!sealed) throw new Error('nothing was sealed');
    return sealed;
  } finally {
    await sealer.stop({ finalSeal: false });
  }
}

let more = 0;
const grantMore = (store: EventStore) => grantConsent(store, consentStream('acme', `user${more++}`), ['openid'], ctxFor('acme'));

describe('idp verify, in-memory store', () => {
  it('passes a sealed log, and names the first broken position of an edited one', async () => {
    const store = new InMemoryEventStore();
    await writeLog(store);
    await seal(store);
    await grantMore(store);
    const run = await runIdpInProcess(['verify', '--json'], { store, tenant: 'acme' });
    expect(run.code).toBe(EXIT.ok);
    const report = JSON.parse(run.stdout) as VerifyRunReport;
    expect(report).toMatchObject({ ok: true, failures: [], seals: { sealsChecked: 1, eventsAfterLastSeal: 2 } });

    // A stream that writes in the seal's stream name without the key: a seal whose signature fails.
    const [sealEvent] = (await store.readStream('log-acme')).events;
    const forged = { ...(sealEvent!.data as object), signature: Buffer.alloc(64).toString('base64url') };
    const copy = new InMemoryEventStore();
    for (const event of await store.readAll()) {
      await copy.append(event.streamName, [{ ...event, data: event.streamName === 'log-acme' ? forged : event.data }], 'any');
    }
    const broken = await runIdpInProcess(['verify'], { store: copy, tenant: 'acme' });
    expect(broken.code).toBe(EXIT.failed);
    expect(broken.stdout).toContain(`BROKEN at position ${sealEvent!.position} (log-acme#0): hash_mismatch`);
    expect(broken.stdout).toMatch(/seal_signature_invalid 1/);
  });
});

describe('idp verify, JetStream log (the bin)', () => {
  let nats: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'idp-verify-js-'));
    nats = await startNats({ storeDir: dir });
    const store = await JetStreamEventStore.connect(nats.url);
    await writeLog(store);
    await seal(store);
    await grantMore(store);
    await seal(store, join(dir, 'log-anchor.json'));
    await store.close();
  }, 60_000);
  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks the chains and both seals, and reaches the anchor', async () => {
    const run = await runIdp(['verify', '--json', '--anchor', join(dir, 'log-anchor.json')], { env: { EVENT_STORE_URL: nats.url, IDP_TENANT: 'acme' } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.ok);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, seals: { sealsChecked: 2, anchor: { reached: true } } });
  });

  it('refuses an anchor of another tenant (exit 2)', async () => {
    const run = await runIdp(['verify', '--anchor', join(dir, 'log-anchor.json')], { env: { EVENT_STORE_URL: nats.url } });
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain('the anchor is of tenant acme, IDP_TENANT is default');
  });
});

describe('idp archive, SQLite log (the bin)', () => {
  let dir: string;
  let file: string;
  let anchorFile: string;
  let seals: RecordedEvent[];
  const env = () => ({ EVENT_STORE_URL: `sqlite:${file}`, IDP_TENANT: 'acme' });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'idp-archive-'));
    file = join(dir, 'idp.db');
    anchorFile = join(dir, 'log-anchor.json');
    const store = SqliteEventStore.open(file);
    await writeLog(store);
    seals = [await seal(store)];
    await grantMore(store);
    await grantConsent(store, consentStream('acme', 'alice'), ['address'], ctxFor('acme'));
    seals.push(await seal(store));
    await grantMore(store);
    await grantConsent(store, consentStream('acme', 'alice'), ['offline_access'], ctxFor('acme'));
    seals.push(await seal(store, anchorFile));
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses what is not a seal (exit 3), an archive file that exists (exit 2), and another store (exit 2)', async () => {
    const notSeal = await runIdp(['archive', '--before-seal', String(seals[1]!.position - 1), '--out', join(dir, 'a.jsonl')], { env: env() });
    expect(notSeal.code).toBe(EXIT.notFound);
    expect(notSeal.stderr).toContain('no seal of tenant acme at position');
    const exists = await runIdp(['archive', '--before-seal', String(seals[1]!.position), '--out', file], { env: env() });
    expect(exists.code).toBe(EXIT.usage);
    const nats = await runIdp(['archive', '--before-seal', '1', '--out', join(dir, 'b.jsonl')], { env: { EVENT_STORE_URL: 'nats://127.0.0.1:1' } });
    expect(nats.code).toBe(EXIT.usage);
    expect(nats.stderr).toContain('SQLite logs only');
  });

  it('cuts the log before a seal into a 0600 archive file, and idp verify (with the anchor) still passes', async () => {
    const cutAt = seals[1]!;
    const upTo = (cutAt.data as { upToPosition: number }).upToPosition;
    const out = join(dir, 'archive-1.jsonl');
    const run = await runIdp(['archive', '--before-seal', String(cutAt.position), '--out', out, '--json'], { env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.ok);
    const summary = JSON.parse(run.stdout) as { archived: number; upToPosition: number; sha256: string; continuingStreams: Record<string, number> };
    expect(summary).toMatchObject({ upToPosition: upTo, continuingStreams: { consent: 1, log: 1 } });

    const lines = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { position?: number; kind?: string });
    expect(lines[0]).toMatchObject({ kind: 'idp-log-archive', tenant: 'acme', sealPosition: cutAt.position, upToPosition: upTo });
    expect(lines.slice(1).map((l) => l.position)).toEqual([...Array(summary.archived).keys()].map((i) => i + 1));
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT MIN(position) AS first FROM events').get()).toEqual({ first: upTo + 1 });
    db.close();

    const verify = await runIdp(['verify', '--json', '--anchor', anchorFile], { env: env() });
    const report = JSON.parse(verify.stdout) as VerifyRunReport;
    expect(report.failures).toEqual([]);
    expect(verify.code).toBe(EXIT.ok);
    expect(report.seals).toMatchObject({ archiveCut: { upToPosition: upTo }, sealsChecked: 2, anchor: { reached: true } });
  });

  it('after the cut, a dropped event is still caught', async () => {
    const copy = join(dir, 'copy.db');
    const db = new Database(file, { readonly: true });
    await db.backup(copy);
    db.close();
    const tampered = new Database(copy);
    const { first } = tampered.prepare('SELECT MIN(position) AS first FROM events WHERE type != ?').get('log.checkpoint_sealed') as { first: number };
    tampered.prepare('DELETE FROM events WHERE position = ?').run(first);
    tampered.close();
    const run = await runIdp(['verify', '--json'], { env: { EVENT_STORE_URL: `sqlite:${copy}`, IDP_TENANT: 'acme' } });
    expect(run.code).toBe(EXIT.failed);
    expect((JSON.parse(run.stdout) as VerifyRunReport).failures.map((f) => f.reason)).toContain('seal_running_hash_mismatch');
  });
});
