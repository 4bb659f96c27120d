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

/** `idp verify` on memory (in process) and JetStream (the bin); `idp archive` is test/cli/archive.test.ts. */
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
