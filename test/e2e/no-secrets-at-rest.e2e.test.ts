import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SqliteDataKeyStore } from '../../infra/crypto/data-keys/sqlite.js';
import { parseKek } from '../../infra/crypto/kek.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import { startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';
import { passwordHashNeedles } from '../support/password-hash-needles.js';
import { runFlowsForSecretsScan, type FlowsResult } from '../support/secret-flows.js';
import { describeHits, forbiddenIn, kek, readTree, scan, text, unfindableNeedles, type Haystack, type Needle } from '../support/secret-scan.js';

/**
 * DESIGN §4 "No secret in the log" and issue 10's secrets scan, embedded: after a broad run of
 * flows (test/support/secret-flows.ts), no plaintext secret (passwords, codes, tokens, client
 * secrets, PKCE verifiers, session secrets, the initial access token, the KEK) and no password
 * hash (its PHC string or hash part, opened from the log for the scan) is found in any file of the
 * data directory (SQLite log with its -wal/-shm, data-keys.db), nor in anything the process printed,
 * even at LOG_LEVEL=trace. Personal data (username, name) is not in the files either. Client secret
 * hashes (SHA-256) are in the log by design (DESIGN §4), and the scan shows it finds them there.
 * The distributed twin is no-secrets-at-rest.distributed.e2e.test.ts.
 */
const USERNAME = `carol-${randomBytes(6).toString('hex')}`;
const PASSWORD = `Pw-${randomBytes(24).toString('base64url')}`;
const INITIAL_ACCESS_TOKEN = `iat-${randomBytes(24).toString('base64url')}`;

let server: EmbeddedProcess;
let flows: FlowsResult;
const needles: Needle[] = [];
let filesWhileRunning: Haystack[] = [];
let filesAfterStop: Haystack[] = [];
let logs: Haystack;

beforeAll(async () => {
  server = await startEmbeddedProcess({
    env: { IDP_DEMO_USERNAME: USERNAME, IDP_DEMO_PASSWORD: PASSWORD, IDP_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN, LOG_LEVEL: 'trace' },
  });
  flows = await runFlowsForSecretsScan({ issuer: server.issuer, initialAccessToken: INITIAL_ACCESS_TOKEN, user: { username: USERNAME, password: PASSWORD } });
  needles.push(...flows.needles);

  filesWhileRunning = readTree(server.dataDir);
  await server.stop();
  filesAfterStop = readTree(server.dataDir);
  logs = { name: 'stdout+stderr', bytes: Buffer.from(server.logs(), 'utf8') };

  // Read back after the files were: the KEK is in its own file by design, and nowhere else; the
  // password hashes are opened from the log with the data keys, as authn does.
  const kekText = fs.readFileSync(path.join(server.dataDir, 'kek'), 'utf8').trim();
  needles.push(...kek(kekText));
  const store = SqliteEventStore.open(path.join(server.dataDir, 'idp.db'));
  const dataKeys = SqliteDataKeyStore.open(path.join(server.dataDir, 'data-keys.db'), parseKek(kekText));
  try {
    needles.push(...(await passwordHashNeedles(store, dataKeys, 'default', flows.subs)));
  } finally {
    await store.close();
    await dataKeys.close();
  }
}, 180_000);

afterAll(async () => {
  if (!server) return;
  await server.stop();
  fs.rmSync(server.dataDir, { recursive: true, force: true });
}, 30_000);

const withoutKekFile = (files: Haystack[]) => files.filter((f) => f.name !== 'kek');

describe('no secrets at rest (embedded IdP, SQLite)', () => {
  it('the scan finds what is known to be there (so an empty scan cannot pass)', () => {
    expect(server.exitCode()).toBe(0);
    const names = filesWhileRunning.map((f) => f.name);
    // Everything the brief names was scanned: the log with its WAL, and the data keys.
    expect(names).toEqual(expect.arrayContaining(['idp.db', 'idp.db-wal', 'data-keys.db', 'kek']));
    expect(filesAfterStop.map((f) => f.name)).toEqual(expect.arrayContaining(['idp.db', 'data-keys.db']));
    expect(needles.length).toBeGreaterThan(80);
    expect(needles.filter((n) => n.label.startsWith('password hash'))).not.toHaveLength(0);

    const controlNeedles = flows.controls.map((c) => text(c.label, c.value));
    for (const files of [filesWhileRunning, filesAfterStop]) {
      const found = new Set(scan(files, controlNeedles).map((h) => h.needle));
      expect([...found].sort()).toEqual([...new Set(flows.controls.map((c) => c.label))].sort());
    }
    expect(scan(filesAfterStop.filter((f) => f.name === 'idp.db'), controlNeedles).length).toBeGreaterThan(0);
    // The client secrets' SHA-256 is in the log by design: the scan sees it.
    const storedHashes = needles.filter((n) => n.kind === 'stored-hash');
    expect(storedHashes.length).toBeGreaterThanOrEqual(4);
    expect(new Set(scan(filesAfterStop, storedHashes).map((h) => h.needle)).size).toBe(storedHashes.length);
    expect(scan([logs], [text('ready line', 'embedded IdP listening')])).toHaveLength(1);
    expect(unfindableNeedles(needles)).toEqual([]);
  });

  it('no secret, password hash or personal data in the data directory while the server runs (SQLite log, -wal, -shm, data-keys.db)', () => {
    expect(needles.filter((n) => n.label.startsWith('KEK'))).toHaveLength(3);
    expect(describeHits(scan(withoutKekFile(filesWhileRunning), forbiddenIn('store', needles)))).toEqual([]);
  });

  it('no secret, password hash or personal data in the data directory after a clean stop', () => {
    expect(describeHits(scan(withoutKekFile(filesAfterStop), forbiddenIn('store', needles)))).toEqual([]);
  });

  it('no secret, password hash or client secret hash in anything the process printed (LOG_LEVEL=trace)', () => {
    expect(logs.bytes.length).toBeGreaterThan(0);
    expect(describeHits(scan([logs], forbiddenIn('logs', needles)))).toEqual([]);
  });
});
