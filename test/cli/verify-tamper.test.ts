import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EXIT } from '../../services/cli/exit-codes.js';
import type { VerifyRunReport } from '../../services/cli/integrity/verify-run.js';
import { readAnchorFile, type LogAnchor } from '../../services/shared/integrity/anchor.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { runIdp, runIdpInProcess } from '../support/cli.js';
import { startEmbeddedProcess, TEST_REGISTRATION_RATE, type EmbeddedProcess } from '../support/embedded-process.js';
import { copyLog, rewriteConsistently, rowsOf, withLog, type EventRow } from '../support/log-tamper.js';
import { runFlowsForSecretsScan } from '../support/secret-flows.js';

/**
 * Issue 11, "Tampering": a real SQLite log (the embedded server, a broad run of real flows,
 * sealed while it ran and once more at shutdown), copied and tampered with four ways. The real
 * `idp` bin catches each with exit 1, and passes the untouched copy:
 * - a flipped byte inside one event's data (its hash);
 * - a deleted event (its stream's chain, and the running hash of the next seal);
 * - a truncated tail (only the anchor kept outside the store sees it: without --anchor the
 *   shorter log is a consistent log);
 * - an event edited and everything re-hashed consistently, seals' statements included (only the
 *   seals' signatures give it away).
 */
const INITIAL_ACCESS_TOKEN = `iat-${randomBytes(24).toString('base64url')}`;
let server: EmbeddedProcess;
let anchorFile: string;
let anchor: LogAnchor;
const copies: string[] = [];

beforeAll(async () => {
  server = await startEmbeddedProcess({
    env: {
      IDP_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN,
      IDP_REGISTRATION_RATE: TEST_REGISTRATION_RATE,
      // Seals while the flows run, so the log holds a chain of them; the last comes at shutdown.
      IDP_LOG_SEAL_INTERVAL: '200ms',
    },
  });
  await runFlowsForSecretsScan({ issuer: server.issuer, initialAccessToken: INITIAL_ACCESS_TOKEN, user: { username: 'demo', password: 'demo' } });
  await server.stop();
  anchorFile = join(server.dataDir, 'log-anchor.json');
  anchor = readAnchorFile(anchorFile);
}, 180_000);

afterAll(() => {
  for (const copy of copies) rmSync(dirname(copy), { recursive: true, force: true });
  if (server) rmSync(server.dataDir, { recursive: true, force: true });
});

function copy(label: string): string {
  const file = copyLog(server.dataDir, label);
  copies.push(file);
  return file;
}

async function verify(file: string, withAnchor: boolean): Promise<{ code: number; report: VerifyRunReport; stderr: string }> {
  const run = await runIdp(['verify', '--json', ...(withAnchor ? ['--anchor', anchorFile] : [])], { env: { EVENT_STORE_URL: `sqlite:${file}` } });
  return { code: run.code, report: JSON.parse(run.stdout) as VerifyRunReport, stderr: run.stderr };
}

/** The same commands in this process (for the human output; the exit codes above come from the real bin). */
async function inProcess(file: string, argv: string[]) {
  const store = SqliteEventStore.openReadOnly(file);
  try {
    return await runIdpInProcess(argv, { store });
  } finally {
    await store.close();
  }
}

const reasons = (report: VerifyRunReport) => [...new Set(report.failures.map((f) => f.reason))].sort();

/** A non-seal event in the middle of the log whose stream goes on after it. */
function middleEvent(rows: EventRow[]): EventRow {
  const candidates = rows.filter(
    (row, i) => row.type !== 'log.checkpoint_sealed' && row.data?.includes('"') && rows.slice(i + 1).some((later) => later.stream_name === row.stream_name),
  );
  return candidates[Math.floor(candidates.length / 2)]!;
}

it('the log of real flows holds a chain of seals, and the untouched copy verifies with its anchor (exit 0)', async () => {
  const file = copy('untouched');
  const rows = withLog(file, rowsOf);
  const seals = rows.filter((row) => row.type === 'log.checkpoint_sealed');
  expect(seals.length).toBeGreaterThanOrEqual(2);
  // The last event is the shutdown's seal, and the anchor names it.
  expect(rows.at(-1)).toMatchObject({ type: 'log.checkpoint_sealed', position: anchor.sealPosition, hash: anchor.sealEventHash });

  const { code, report } = await verify(file, true);
  expect(report.failures).toEqual([]);
  expect(code).toBe(EXIT.ok);
  expect(report).toMatchObject({ ok: true, eventsChecked: rows.length, seals: { sealsChecked: seals.length, anchor: { reached: true } } });

  const human = await inProcess(file, ['verify', '--anchor', anchorFile]);
  expect(human.code).toBe(EXIT.ok);
  expect(human.stdout).toMatch(/the log reaches the anchored seal/);
  expect(human.stdout).toMatch(/OK\n$/);
}, 60_000);

it('a flipped byte inside one event\'s data: exit 1 at that position (hash_mismatch)', async () => {
  const file = copy('flipped');
  const target = withLog(file, (db) => {
    const row = middleEvent(rowsOf(db));
    // Inside a JSON string value: the first letter after a quote, one bit flipped.
    const at = row.data!.search(/"[a-z]/) + 1;
    const flipped = row.data!.slice(0, at) + String.fromCharCode(row.data!.charCodeAt(at) ^ 1) + row.data!.slice(at + 1);
    expect(flipped).not.toBe(row.data);
    JSON.parse(flipped);
    db.prepare('UPDATE events SET data = ? WHERE position = ?').run(flipped, row.position);
    return row;
  });
  const { code, report } = await verify(file, true);
  expect(code).toBe(EXIT.failed);
  expect(report.firstBrokenPosition).toBe(target.position);
  expect(report.failures[0]).toMatchObject({ reason: 'hash_mismatch', position: target.position, streamName: target.stream_name });

  const human = await inProcess(file, ['verify']);
  expect(human.code).toBe(EXIT.failed);
  expect(human.stdout).toContain(`BROKEN at position ${target.position} (${target.stream_name}#${target.stream_index}): hash_mismatch`);
  expect(human.stderr).toContain(`the log is broken at position ${target.position}`);
}, 60_000);

it('a deleted event: exit 1 (its stream skips an index, and the seal after it no longer holds)', async () => {
  const file = copy('deleted');
  const target = withLog(file, (db) => {
    const row = middleEvent(rowsOf(db));
    db.prepare('DELETE FROM events WHERE position = ?').run(row.position);
    return row;
  });
  const { code, report } = await verify(file, true);
  expect(code).toBe(EXIT.failed);
  expect(report.failures.find((f) => f.reason === 'index_gap')).toMatchObject({ streamName: target.stream_name, streamIndex: target.stream_index + 1 });
  // The seal that covered it: its running hash (or, when it covered exactly that event, its position) is gone.
  expect(reasons(report).filter((r) => r === 'seal_running_hash_mismatch' || r === 'seal_position_unknown')).not.toEqual([]);
  expect(report.firstBrokenPosition).toBeGreaterThan(target.position);
}, 60_000);

it('a truncated tail: a consistent shorter log without the anchor (exit 0), caught through the anchor (exit 1)', async () => {
  const file = copy('truncated');
  withLog(file, (db) => {
    const rows = rowsOf(db);
    // The shutdown's seal and the events before it back to the seal before: a clean cut after that seal.
    const seals = rows.filter((row) => row.type === 'log.checkpoint_sealed');
    const keep = seals.at(-2)!;
    const removed = db.prepare('DELETE FROM events WHERE position > ?').run(keep.position);
    expect(removed.changes).toBeGreaterThanOrEqual(1);
  });
  const without = await verify(file, false);
  expect(without.report.failures).toEqual([]);
  expect(without.code).toBe(EXIT.ok);

  const { code, report } = await verify(file, true);
  expect(code).toBe(EXIT.failed);
  expect(reasons(report)).toContain('anchor_seal_missing');
  expect(report.firstBrokenPosition).toBe(anchor.sealPosition);
  expect(report.seals.anchor).toEqual({ sealPosition: anchor.sealPosition, reached: false });
}, 60_000);

it('an event edited and re-hashed consistently (chains and seal statements rewritten): caught through the seals\' signatures', async () => {
  const file = copy('rehashed');
  const target = withLog(file, (db) => {
    const row = rowsOf(db).find((r) => r.type === 'tokens.issued' || r.type === 'client_credentials.granted' || r.type === 'consent.granted')!;
    rewriteConsistently(db, row.position, (data) => {
      data.scope = typeof data.scope === 'string' ? `${data.scope} admin` : 'admin';
    });
    return row;
  });
  expect(withLog(file, rowsOf).find((r) => r.position === target.position)!.data).toContain('admin');

  // Without the anchor: every chain, hash and running hash holds; only the signatures do not.
  const { code, report } = await verify(file, false);
  expect(code).toBe(EXIT.failed);
  expect(reasons(report)).toEqual(['seal_signature_invalid']);
  const firstSealAfter = withLog(file, rowsOf).find((r) => r.type === 'log.checkpoint_sealed' && (JSON.parse(r.data!) as { upToPosition: number }).upToPosition >= target.position)!;
  expect(report.firstBrokenPosition).toBe(firstSealAfter.position);

  // With it, the anchored seal itself is seen to have changed too.
  const anchored = await verify(file, true);
  expect(anchored.code).toBe(EXIT.failed);
  expect(reasons(anchored.report)).toEqual(expect.arrayContaining(['seal_signature_invalid', 'anchor_seal_changed']));
}, 60_000);

it('refuses an anchor file that is not one (exit 2), naming the file', async () => {
  const run = await runIdp(['verify', '--anchor', join(server.dataDir, 'kek')], { env: { EVENT_STORE_URL: `sqlite:${copies[0]!}` } });
  expect(run.code).toBe(EXIT.usage);
  expect(run.stderr).toContain('is not JSON');
  expect(readFileSync(anchorFile, 'utf8')).toContain('idp-log-anchor');
});
