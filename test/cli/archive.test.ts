import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { RequestContext } from '../../contracts/events/metadata.js';
import type { ClientView } from '../../contracts/messages/client-registry.js';
import type { EventStore, RecordedEvent } from '../../infra/event-store/port.js';
import { ArchiveChangedError, deleteArchivedStreams } from '../../infra/event-store/sqlite-archive.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { AuthnApp } from '../../services/authn/app/authn.app.js';
import { ClientRegistryApp } from '../../services/client-registry/app/client-registry.app.js';
import { EXIT } from '../../services/cli/exit-codes.js';
import type { VerifyRunReport } from '../../services/cli/integrity/verify-run.js';
import { sealKeyFromSeed } from '../../services/shared/integrity/seal-key.js';
import { grantTokens } from '../../services/token-issuer/app/grants/index.js';
import { issueForSession } from '../../services/token-issuer/app/issue-authorization.js';
import { LogSealer } from '../../services/token-issuer/app/log-sealer.js';
import { revokeToken } from '../../services/token-issuer/app/revoke.js';
import type { TokenIssuerDeps } from '../../services/token-issuer/app/token-issuer.deps.js';
import { runIdp, runIdpInProcess } from '../support/cli.js';
import { tokenIssuerOver } from '../support/token-issuer-under-test.js';
import { authnOver } from '../support/authn-under-test.js';

/**
 * `idp archive` (issue 11): only ended business before a seal leaves the log, and the server and
 * `idp verify` go on as before. The log is written by the real handlers (client-registry, authn,
 * token-issuer) on a SQLite file with their clocks pinned 31 days back, so that by the real
 * clock the bin runs on, that business has ended; a little is written "now" and stays.
 *
 * Before the first seal:
 * - 31 days ago: clients M (client credentials) and W (code + refresh), user Ulla; Ulla logs in
 *   (a session she ends) and later again (a session that expired); M's token; W's grants `old`
 *   (refreshed once), `revoked` (revoked) and `continuing`;
 * - now: M's token, and Ulla logs in again (her last login; a live session).
 * After it: `continuing` is refreshed (on the old clock), then a second seal.
 */
const DAY = 86_400_000;
const logger = pino({ level: 'silent' });
const sealKey = sealKeyFromSeed(randomBytes(32));
const admin: RequestContext = { tenant: 'default', correlationId: 'archive-admin', causationId: null, actor: { kind: 'admin', id: 'alice' } };
const asClient = (clientId: string): RequestContext => ({ tenant: 'default', correlationId: randomUUID(), causationId: null, actor: { kind: 'client', id: clientId } });
const grantIdOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string }).jti.split('.')[0]!;

interface ArchiveSummary {
  sealPosition: number;
  upToPosition: number;
  archived: { events: number; digest: string; streams: Record<string, number> };
  kept: { events: number };
  fileSha256: string;
  recordedAt: number;
}
interface RebuildRow {
  projection: string;
  entries: number;
  digest: string;
}

let dir: string;
let file: string;
let anchorFile: string;
let store: SqliteEventStore;
let issuer: TokenIssuerDeps;
let authn: AuthnApp;
let now: Date;
let m: ClientView;
let w: ClientView;
let ulla: string;
let sealPositions: number[];
let continuingRefresh: string;
/** Streams the rules must archive, and every stream of the log before the cut. */
const expectedArchived = new Set<string>();
let logBefore: RecordedEvent[];

const env = (db = file) => ({ EVENT_STORE_URL: `sqlite:${db}`, IDP_TENANT: 'default' });

async function seal(): Promise<number> {
  const sealer = new LogSealer({ store, tenant: 'default', key: sealKey, anchorFile, intervalMs: 0, everyEvents: 1_000_000, logger, clock: () => new Date() });
  sealer.start();
  try {
    const sealed = await sealer.sealNow();
    if (!sealed) throw new Error('nothing was sealed');
    return sealed.position;
  } finally {
    await sealer.stop({ finalSeal: false });
  }
}

async function codeGrant(sessionId: string): Promise<{ grantId: string; refreshToken: string; accessToken: string }> {
  const grantId = randomUUID();
  const ctx = asClient(w.clientId);
  const { code } = await issueForSession(
    issuer,
    ctx,
    { ctx, grantId, responseType: 'code', clientId: w.clientId, redirectUri: w.redirectUris[0]!, scope: 'openid offline_access' },
    { sessionId, sub: ulla, authTime: Math.floor(now.getTime() / 1000), acr: '0', amr: ['pwd'] },
  );
  const tokens = await grantTokens(issuer, ctx, w, { grantType: 'authorization_code', code: code!, redirectUri: w.redirectUris[0]! });
  return { grantId, refreshToken: tokens.refresh_token!, accessToken: tokens.access_token };
}

/** The cookie value of each session this test started, from the login reply. */
const sessionTokens = new Map<string, string>();
async function login(): Promise<string> {
  const reply = await authn.login({ ...admin, actor: { kind: 'client', id: w.clientId } }, { username: 'ulla', password: 'correct horse battery', clientId: w.clientId });
  if (!('sessionToken' in reply)) throw new Error('login failed');
  sessionTokens.set(reply.session.sessionId, reply.sessionToken);
  return reply.session.sessionId;
}

const streamsOf = (log: RecordedEvent[]) => new Set(log.map((event) => event.streamName));
const rebuild = async (db: string, at: Date) => {
  const readOnly = SqliteEventStore.openReadOnly(db);
  try {
    const run = await runIdpInProcess(['rebuild', '--json'], { store: readOnly, now: () => at });
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    return (JSON.parse(run.stdout) as RebuildRow[]).map(({ projection, entries, digest }) => ({ projection, entries, digest }));
  } finally {
    await readOnly.close();
  }
};
const copyOf = async (name: string) => {
  const copy = join(dir, name);
  const db = new Database(file, { readonly: true });
  await db.backup(copy);
  db.close();
  return copy;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'idp-archive-'));
  file = join(dir, 'idp.db');
  anchorFile = join(dir, 'log-anchor.json');
  store = SqliteEventStore.open(file);
  const old = Date.now() - 31 * DAY;
  now = new Date(old);
  const clock = () => now;
  authn = authnOver(store, { clock });
  const registry = new ClientRegistryApp({ store, projections: new InMemoryProjectionStore(), clock });
  issuer = tokenIssuerOver(store, { clock });
  const withToken = { authorizedBy: 'initial_access_token' } as const;
  m = (await registry.register(admin, { client_name: 'M', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic', scope: 'orders:read' }, withToken)).client;
  w = (
    await registry.register(
      admin,
      { client_name: 'W', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['https://rp.example.test/cb'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid offline_access' },
      withToken,
    )
  ).client;
  ({ sub: ulla } = await authn.registerUser(admin, { username: 'ulla', password: 'correct horse battery' }));

  // 31 days ago.
  now = new Date(old + 60_000);
  const ended = await login();
  const ccOld = await grantTokens(issuer, asClient(m.clientId), m, { grantType: 'client_credentials', resources: [] });
  const oldGrant = await codeGrant(ended);
  await grantTokens(issuer, asClient(w.clientId), w, { grantType: 'refresh_token', refreshToken: oldGrant.refreshToken, resources: [] });
  const revoked = await codeGrant(ended);
  await revokeToken(issuer, asClient(w.clientId), w, revoked.refreshToken);
  const continuing = await codeGrant(ended);
  continuingRefresh = continuing.refreshToken;
  const reply = await authn.endSession({ ...admin, actor: { kind: 'client', id: w.clientId } }, { sessionToken: sessionTokens.get(ended)!, reason: 'rp_initiated_logout', clientId: w.clientId });
  expect(reply.ended).toBe(true);
  now = new Date(old + 10 * 60_000);
  const expired = await login();
  // Now.
  now = new Date(Date.now() - 60_000);
  await grantTokens(issuer, asClient(m.clientId), m, { grantType: 'client_credentials', resources: [] });
  await login();
  sealPositions = [await seal()];

  // After the seal: the old grant goes on (a day after it began, within its refresh lifetime).
  now = new Date(old + DAY);
  const refreshed = await grantTokens(issuer, asClient(w.clientId), w, { grantType: 'refresh_token', refreshToken: continuing.refreshToken, resources: [] });
  continuingRefresh = refreshed.refresh_token!;
  sealPositions.push(await seal());

  logBefore = await store.readAll();
  const logins = logBefore.filter((event) => event.type === 'authentication.succeeded' && event.streamName.startsWith('authentication-'));
  expect(logins.length).toBe(3);
  for (const event of logins.slice(0, 2)) expectedArchived.add(event.streamName);
  for (const name of streamsOf(logBefore)) {
    if (name.startsWith(`refresh_token-default-${oldGrant.grantId}.`)) expectedArchived.add(name);
  }
  for (const name of [`grant-default-${grantIdOf(ccOld.access_token)}`, `grant-default-${oldGrant.grantId}`, `session-default-${ended}`, `session-default-${expired}`]) {
    expectedArchived.add(name);
  }
  expect(streamsOf(logBefore).has(`grant-default-${revoked.grantId}`)).toBe(true);
}, 60_000);

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('idp archive, SQLite log (the bin)', () => {
  let summary: ArchiveSummary;
  let before: string;
  const out = () => join(dir, 'archive-1.jsonl');

  beforeAll(async () => {
    before = await copyOf('before.db');
    const run = await runIdp(['archive', '--before-seal', String(sealPositions[0]), '--out', out(), '--json'], { env: env() });
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    summary = JSON.parse(run.stdout) as ArchiveSummary;
  }, 60_000);

  it('moves exactly the ended business into a new 0600 file, whole streams, and keeps everything else', async () => {
    const lines = readFileSync(out(), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as RecordedEvent & { kind?: string });
    expect(lines[0]).toMatchObject({ kind: 'idp-log-archive', tenant: 'default', sealPosition: sealPositions[0] });
    const records = lines.slice(1);
    expect(new Set(records.map((r) => r.streamName))).toEqual(expectedArchived);
    // Whole streams, as stored: every event of each archived stream, nothing else.
    expect(records).toEqual(logBefore.filter((e) => expectedArchived.has(e.streamName)).map((e) => expect.objectContaining({ position: e.position, hash: e.hash, streamIndex: e.streamIndex })));
    expect(statSync(out()).mode & 0o777).toBe(0o600);
    expect(summary.archived).toMatchObject({ events: records.length, streams: { authentication: 2, grant: 2, refreshToken: 1, session: 2 } });

    const after = await store.readAll();
    const kept = logBefore.filter((e) => !expectedArchived.has(e.streamName));
    // What stayed is untouched, and the cut is recorded after it.
    expect(after.slice(0, -1)).toEqual(kept);
    expect(after.at(-1)).toMatchObject({ type: 'log.archived', streamName: 'log-default', position: summary.recordedAt });
    expect(summary.kept.events).toBe(kept.filter((e) => e.position <= summary.upToPosition).length);
  });

  it('leaves every projection as it was: a rebuild before and after the cut gives the same digests', async () => {
    const at = new Date();
    expect(await rebuild(file, at)).toEqual(await rebuild(before, at));
  });

  it('idp verify (with the anchor) passes, held to the record; a kept event dropped, or the record, is caught', async () => {
    const verify = await runIdp(['verify', '--json', '--anchor', anchorFile], { env: env() });
    const report = JSON.parse(verify.stdout) as VerifyRunReport;
    expect(report.failures).toEqual([]);
    expect(verify.code).toBe(EXIT.ok);
    expect(report.seals).toMatchObject({ archiveCut: { upToPosition: summary.upToPosition, keptEvents: summary.kept.events, recordPosition: summary.recordedAt }, anchor: { reached: true } });

    // The last event of a kept stream before the cut (the revocation): no gap in any chain, only the record sees it.
    const dropped = await copyOf('dropped.db');
    const db = new Database(dropped);
    const revocation = logBefore.find((e) => e.type === 'grant.revoked')!;
    expect(revocation.position).toBeLessThan(summary.upToPosition);
    db.prepare('DELETE FROM events WHERE position = ?').run(revocation.position);
    db.close();
    const caught = await runIdp(['verify', '--json'], { env: env(dropped) });
    expect(caught.code).toBe(EXIT.failed);
    expect((JSON.parse(caught.stdout) as VerifyRunReport).failures.map((f) => f.reason)).toEqual(['archive_kept_mismatch']);

    // The record itself deleted: the walk starts from the beginning, and the first seal no longer holds.
    const unrecorded = await copyOf('unrecorded.db');
    const db2 = new Database(unrecorded);
    db2.prepare('DELETE FROM events WHERE position = ?').run(summary.recordedAt);
    db2.close();
    const caught2 = await runIdp(['verify', '--json'], { env: env(unrecorded) });
    expect(caught2.code).toBe(EXIT.failed);
    expect((JSON.parse(caught2.stdout) as VerifyRunReport).failures.map((f) => f.reason)).toContain('seal_running_hash_mismatch');
  });

  it('refuses to cut again at the same seal (exit 4), what is not a seal (exit 3), an existing file and another store (exit 2)', async () => {
    const again = await runIdp(['archive', '--before-seal', String(sealPositions[0]), '--out', join(dir, 'again.jsonl')], { env: env() });
    expect(again.code).toBe(EXIT.refused);
    expect(again.stderr).toContain('archived up to');
    expect(existsSync(join(dir, 'again.jsonl'))).toBe(false);
    const notSeal = await runIdp(['archive', '--before-seal', String(sealPositions[1]! - 1), '--out', join(dir, 'a.jsonl')], { env: env() });
    expect(notSeal.code).toBe(EXIT.notFound);
    expect(existsSync(join(dir, 'a.jsonl'))).toBe(false);
    const exists = await runIdp(['archive', '--before-seal', String(sealPositions[1]), '--out', out()], { env: env() });
    expect(exists.code).toBe(EXIT.usage);
    const nats = await runIdp(['archive', '--before-seal', '1', '--out', join(dir, 'b.jsonl')], { env: { EVENT_STORE_URL: 'nats://127.0.0.1:1' } });
    expect(nats.code).toBe(EXIT.usage);
    expect(nats.stderr).toContain('SQLite logs only');
  });

  it('the services go on over the cut log: the continuing grant refreshes, M gets a token, Ulla logs in', async () => {
    now = new Date(Date.now() - 31 * DAY + 2 * DAY);
    await expect(grantTokens(issuer, asClient(w.clientId), w, { grantType: 'refresh_token', refreshToken: continuingRefresh, resources: [] })).resolves.toHaveProperty('refresh_token');
    now = new Date();
    await expect(grantTokens(issuer, asClient(m.clientId), m, { grantType: 'client_credentials', resources: [] })).resolves.toHaveProperty('access_token');
    await expect(login()).resolves.toMatch(/^[0-9a-f-]{36}$/);
    // A later archive at the second seal still verifies: the later cut is the one held to.
    await seal();
    const run = await runIdp(['archive', '--before-seal', String(sealPositions[1]), '--out', join(dir, 'archive-2.jsonl'), '--json'], { env: env() });
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    const verify = await runIdp(['verify', '--json', '--anchor', anchorFile], { env: env() });
    expect(JSON.parse(verify.stdout) as VerifyRunReport).toMatchObject({ ok: true, seals: { archiveCut: { upToPosition: (JSON.parse(run.stdout) as ArchiveSummary).upToPosition } } });
  });
});

describe('the cut in the append transaction (SqliteEventStore.appendWith)', () => {
  it('deletes nothing and appends nothing when a planned stream grew past the cut, or its rows are not the file\'s', async () => {
    const copy = await copyOf('grown.db');
    const target = SqliteEventStore.open(copy);
    try {
      const all = await target.readAll();
      const head = all.at(-1)!;
      const log = await target.readStream('log-default');
      const marker = { type: 'test.marker', schemaVersion: 1, data: {}, metadata: {}, hash: 'h'.repeat(64) };
      const attempt = (streams: string[], upToPosition: number, checkRows: (rows: Iterable<{ hash: string }>) => void) =>
        target.appendWith('log-default', [marker], log.version!, (db) => deleteArchivedStreams(db, { upToPosition, streams, checkRows }));
      // The continuing grant's refresh-token stream has events after the first seal's position.
      const grown = all.find((e) => e.position > sealPositions[0]! && e.streamName.startsWith('refresh_token-'))!;
      await expect(attempt([grown.streamName], sealPositions[0]! - 1, () => {})).rejects.toThrow(ArchiveChangedError);
      const mismatch = () => {
        throw new ArchiveChangedError('not the file');
      };
      await expect(attempt([all[0]!.streamName], head.position, mismatch)).rejects.toThrow('not the file');
      expect(await target.readAll()).toEqual(all);
    } finally {
      await target.close();
    }
  });
});
