import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { streams } from '../../contracts/streams.js';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { runningFollowers } from '../../infra/followers/registry.js';
import { verifyLogAndSeals } from '../../services/cli/integrity/verify-run.js';
import { readAnchorFile } from '../../services/shared/integrity/anchor.js';
import { sealKeyFromSeed, type SealKey } from '../../services/shared/integrity/seal-key.js';
import { LogSealer } from '../../services/token-issuer/app/log-sealer.js';
import { consentStream, ctxFor, grantConsent, writeLog } from '../support/hash-chain.js';
import { startNats, type TestServer } from '../support/servers.js';

/**
 * The log sealer (DESIGN §4) against the real stores: two sealers racing on one store write one
 * seal (no fork of the seal chain), and every seal verifies, on memory, SQLite and JetStream.
 */
const logger = pino({ level: 'silent' });

function sealer(store: EventStore, key: SealKey, anchorFile?: string): LogSealer {
  return new LogSealer({ store, tenant: 'acme', key, anchorFile, intervalMs: 0, everyEvents: 1_000_000, logger, clock: () => new Date() });
}

async function sealsOf(store: EventStore) {
  return (await store.readStream(streams.log('acme'))).events;
}

function sealingSuite(name: string, open: () => Promise<{ store: EventStore; second: EventStore; close: () => Promise<void> }>) {
  describe(`log seals on ${name}`, () => {
    let store: EventStore;
    let second: EventStore;
    let close: () => Promise<void>;
    let dir: string;
    const key = sealKeyFromSeed(randomBytes(32));
    beforeAll(async () => {
      ({ store, second, close } = await open());
      dir = mkdtempSync(join(tmpdir(), 'idp-log-seal-'));
      await writeLog(store);
    }, 60_000);
    afterAll(async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('two sealers racing on one store write one seal, chained, that verifies; the anchor follows', async () => {
      const anchorA = join(dir, 'a', 'log-anchor.json');
      const anchorB = join(dir, 'b', 'log-anchor.json');
      const a = sealer(store, key, anchorA);
      const b = sealer(second, key, anchorB);
      a.start();
      b.start();
      try {
        const [sealA, sealB] = await Promise.all([a.sealNow(), b.sealNow()]);
        // Both had folded the same head: the loser re-read the stream, found the winner's seal, appended nothing.
        expect([sealA, sealB].filter((s) => s !== null)).toHaveLength(1);
        expect(await sealsOf(store)).toHaveLength(1);
        expect(runningFollowers().map((f) => f.status().name)).toContain('log-sealer');

        // Nothing new but the seal: no second seal.
        expect(await a.sealNow()).toBeNull();

        await grantConsent(store, consentStream('acme', 'carol'), ['openid'], ctxFor('acme'));
        await grantConsent(second, consentStream('acme', 'dave'), ['openid'], ctxFor('acme'));
        const again = await Promise.all([a.sealNow(), b.sealNow()]);
        const seals = await sealsOf(store);
        expect(again.filter((s) => s !== null).length).toBeGreaterThanOrEqual(1);
        expect(seals.length).toBe(1 + again.filter((s) => s !== null).length);
        const [first, next] = seals.map((e) => e.data as { upToPosition: number; runningHash: string; previousSeal: unknown });
        expect(next!.previousSeal).toEqual({ upToPosition: first!.upToPosition, runningHash: first!.runningHash });
      } finally {
        await a.stop({ finalSeal: false });
        await b.stop({ finalSeal: false });
      }

      const report = await verifyLogAndSeals(store, { tenant: 'acme' });
      expect(report.failures).toEqual([]);
      expect(report).toMatchObject({ ok: true, seals: { sealsChecked: (await sealsOf(store)).length } });

      // Each sealer keeps its own anchor, also for the seal the other replica won.
      const last = (await sealsOf(store)).at(-1)!;
      for (const file of [anchorA, anchorB]) {
        const anchor = readAnchorFile(file);
        expect(anchor).toMatchObject({ sealPosition: last.position, sealEventHash: last.hash, publicKey: key.publicKey });
        expect(statSync(file).mode & 0o777).toBe(0o600);
        expect((await verifyLogAndSeals(store, { tenant: 'acme', anchor })).ok).toBe(true);
      }
      expect(readFileSync(anchorA, 'utf8')).toContain('"kind": "idp-log-anchor"');
    }, 60_000);

    it('a restarted sealer resumes from the last seal, and a seal by another key is refused by verify', async () => {
      const restarted = sealer(store, key);
      restarted.start();
      await grantConsent(store, consentStream('acme', 'erin'), ['openid'], ctxFor('acme'));
      expect(await restarted.sealNow()).not.toBeNull();
      await restarted.stop({ finalSeal: false });
      expect((await verifyLogAndSeals(store, { tenant: 'acme' })).ok).toBe(true);

      // A sealer holding another key (not derived from this KEK) appends a seal that is correct but not ours.
      const intruder = sealer(store, sealKeyFromSeed(randomBytes(32)));
      intruder.start();
      await grantConsent(store, consentStream('acme', 'frank'), ['openid'], ctxFor('acme'));
      const foreign = await intruder.sealNow();
      await intruder.stop({ finalSeal: false });
      expect(foreign).not.toBeNull();
      const report = await verifyLogAndSeals(store, { tenant: 'acme' });
      expect(report.ok).toBe(false);
      expect(report.firstBrokenPosition).toBe(foreign!.position);
      expect(report.failures.map((f) => f.reason)).toContain('seal_key_mismatch');
    }, 60_000);
  });
}

sealingSuite('the in-memory store', async () => {
  const store = new InMemoryEventStore();
  return { store, second: store, close: () => store.close() };
});

sealingSuite('SQLite (two connections)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idp-log-seal-sqlite-'));
  const store = SqliteEventStore.open(join(dir, 'idp.db'));
  const second = SqliteEventStore.open(join(dir, 'idp.db'));
  return {
    store,
    second,
    close: async () => {
      await second.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let nats: TestServer | undefined;
sealingSuite('JetStream (two connections)', async () => {
  nats = await startNats();
  const store = await JetStreamEventStore.connect(nats.url);
  const second = await JetStreamEventStore.connect(nats.url);
  return {
    store,
    second,
    close: async () => {
      await second.close();
      await store.close();
      await nats?.stop();
    },
  };
});
