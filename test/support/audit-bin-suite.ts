import { randomBytes } from 'node:crypto';
import { EXIT } from '../../services/cli/exit-codes.js';
import { runIdp, startIdp, type IdpRun } from './cli.js';
import { runFlowsForSecretsScan, type FlowsResult } from './secret-flows.js';
import { describeHits, forbiddenIn, scan, type Haystack } from './secret-scan.js';

/**
 * `idp audit`, `idp as-of` and `idp tail` through the real bin against a running deployment's
 * log (the embedded server's SQLite file, the distributed JetStream log and IDP_EVENTS), filled
 * by real flows over HTTP (secret-flows.ts: logins, code flows, refresh with a reuse, client
 * credentials, the password grant, revocation, logout, secret rotation). Every output is kept
 * and scanned at the end for every secret and stored hash the flows saw.
 */
export interface AuditTarget {
  issuer: string;
  /** The environment `idp` runs with against this deployment. */
  idpEnv: Record<string, string>;
  stop(): Promise<void>;
}

export interface AuditTargetOptions {
  user: { username: string; password: string };
  initialAccessToken: string;
}

interface Row {
  type: string;
  actor: string;
  correlationId: string;
  summary: string;
  grantId?: string;
  data: Record<string, unknown>;
}
interface AsOfRow {
  kind: string;
  valid: boolean;
  invalidBecause: Array<{ kind: string; actor?: string; reason?: string }>;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A client credentials client and one access token of it, over HTTP. */
async function machineToken(issuer: string, initialAccessToken: string) {
  const registered = await fetch(new URL('/register', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${initialAccessToken}` },
    body: JSON.stringify({ client_name: 'audit machine', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'orders:read' }),
  });
  if (registered.status !== 201) throw new Error(`registration answered ${registered.status}: ${await registered.text()}`);
  const { client_id: clientId, client_secret: secret } = (await registered.json()) as { client_id: string; client_secret: string };
  const post = (path: string, form: Record<string, string>) =>
    fetch(new URL(path, issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
      body: new URLSearchParams(form),
    });
  const token = await post('/token', { grant_type: 'client_credentials' });
  if (token.status !== 200) throw new Error(`token answered ${token.status}: ${await token.text()}`);
  const accessToken = ((await token.json()) as { access_token: string }).access_token;
  const jti = (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string }).jti;
  return {
    clientId,
    secret,
    accessToken,
    jti,
    async revoke() {
      const revoked = await post('/revoke', { token: accessToken });
      if (revoked.status !== 200) throw new Error(`revoke answered ${revoked.status}`);
    },
  };
}

export function describeAuditOverBin(name: string, start: (options: AuditTargetOptions) => Promise<AuditTarget>): void {
  describe(`idp audit, as-of and tail through the bin: ${name}`, () => {
    const user = { username: `audit-${randomBytes(4).toString('hex')}`, password: `Pw-${randomBytes(18).toString('base64url')}` };
    const initialAccessToken = `iat-${randomBytes(24).toString('base64url')}`;
    let target: AuditTarget;
    let flows: FlowsResult;
    const outputs: Haystack[] = [];
    const idp = async (...argv: string[]): Promise<IdpRun> => {
      const run = await runIdp(argv, { env: target.idpEnv });
      outputs.push({ name: `idp ${argv.join(' ')}`, bytes: Buffer.from(run.stdout + run.stderr, 'utf8') });
      return run;
    };
    const json = async <T>(...argv: string[]): Promise<T> => {
      const run = await idp(...argv, '--json');
      expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
      return JSON.parse(run.stdout) as T;
    };
    const control = (label: string) => flows.controls.find((c) => c.label === label)!.value;

    beforeAll(async () => {
      target = await start({ user, initialAccessToken });
      flows = await runFlowsForSecretsScan({ issuer: target.issuer, initialAccessToken, user });
    }, 420_000);
    afterAll(async () => {
      await target?.stop();
    }, 60_000);

    it("a user's timeline: logins, session, consent, code, tokens, refresh, the reuse that revoked the grant, logout; every row with actor and correlation id", async () => {
      const sub = flows.subs[0]!;
      const rows = await json<Row[]>('audit', 'user', sub);
      const types = rows.map((row) => row.type);
      expect(types).toEqual(
        expect.arrayContaining([
          'authentication.failed',
          'authentication.succeeded',
          'session.started',
          'consent.granted',
          'authorization_code.issued',
          'tokens.issued',
          'refresh_token.rotated',
          'refresh_token.reuse_detected',
          'grant.revoked',
          'session.ended',
        ]),
      );
      expect(types.indexOf('session.started')).toBeLessThan(types.indexOf('tokens.issued'));
      for (const row of rows) {
        expect(row.actor).toMatch(/^(user|client|admin|system):./);
        expect(row.correlationId).not.toBe('');
      }
      expect(rows.find((row) => row.type === 'grant.revoked')!.summary).toMatch(/revoked: refresh_token_reuse$/);
      const table = await idp('audit', 'user', sub);
      expect(table.code).toBe(EXIT.ok);
      expect(table.stdout).toMatch(/^TIME\s+POSITION\s+EVENT\s+ACTOR\s+CORRELATION\s+WHAT\n/);
    });

    it("a client's timeline: registration, secret rotation, its grants; a grant's, from code to revocation", async () => {
      const clientRows = await json<Row[]>('audit', 'client', control('confidential client_id'));
      expect(clientRows[0]!.type).toBe('client.registered');
      expect(clientRows.map((row) => row.type)).toEqual(expect.arrayContaining(['client.secret_rotated', 'authorization_code.redeemed', 'grant.revoked']));
      const grantId = control('grant id of a confidential code');
      const grantRows = await json<Row[]>('audit', 'grant', grantId);
      expect(grantRows[0]!.type).toBe('authorization_code.issued');
      expect(grantRows.every((row) => row.grantId === grantId || row.type.startsWith('client.'))).toBe(true);
      expect(grantRows.map((row) => row.type)).toEqual(expect.arrayContaining(['authorization_code.redeemed', 'tokens.issued', 'grant.revoked']));
    });

    it('as-of: an access token by its jti is valid until the client revokes it, then revoked by that client', async () => {
      const machine = await machineToken(target.issuer, initialAccessToken);
      const valid = await json<AsOfRow[]>('as-of', new Date().toISOString(), '--token', machine.jti);
      expect(valid).toEqual([expect.objectContaining({ kind: 'access', valid: true })]);
      await machine.revoke();
      const revokedAt = new Date().toISOString();
      const revoked = await json<AsOfRow[]>('as-of', revokedAt, '--token', machine.jti);
      expect(revoked).toEqual([
        expect.objectContaining({ valid: false, invalidBecause: [expect.objectContaining({ kind: 'revoked', actor: `client:${machine.clientId}`, reason: 'revocation_request' })] }),
      ]);
      const byUser = await json<AsOfRow[]>('as-of', revokedAt, '--user', flows.subs[0]!);
      expect(byUser.length).toBeGreaterThan(2);
      expect(byUser.filter((row) => !row.valid).flatMap((row) => row.invalidBecause.map((cause) => cause.kind))).toEqual(expect.arrayContaining(['revoked']));
    });

    it('unknown ids exit 3, a malformed time exits 2', async () => {
      expect((await idp('audit', 'user', 'nobody-at-all')).code).toBe(EXIT.notFound);
      expect((await idp('audit', 'grant', '00000000-0000-4000-8000-000000000000')).code).toBe(EXIT.notFound);
      expect((await idp('as-of', new Date().toISOString(), '--client', 'no-such-client')).code).toBe(EXIT.notFound);
      expect((await idp('as-of', 'now', '--user', flows.subs[0]!)).code).toBe(EXIT.usage);
      expect((await idp('audit', 'user', flows.subs[0]!, '--since', '30/11/2026')).code).toBe(EXIT.usage);
    });

    it('tail prints the events of a flow as they happen, filtered by type, and exits 0 on SIGINT', async () => {
      const tail = startIdp(['tail', '--type', 'client*'], { env: target.idpEnv });
      try {
        await tail.waitFor(/following/);
        const machine = await machineToken(target.issuer, initialAccessToken);
        await tail.waitFor(new RegExp(`"type":"client_credentials.granted"[^\\n]*"clientId":"${machine.clientId}"`), { on: 'stdout', timeoutMs: 20_000 });
        const lines = tail
          .stdout()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { type: string; specversion: string; data?: { clientId?: string } });
        expect(lines.every((line) => line.specversion === '1.0' && line.type.startsWith('client'))).toBe(true);
        expect(lines.map((line) => `${line.type}:${line.data?.clientId}`)).toEqual(
          expect.arrayContaining([`client.registered:${machine.clientId}`, `client_credentials.granted:${machine.clientId}`]),
        );
      } finally {
        const code = await tail.stop('SIGINT');
        outputs.push({ name: 'idp tail', bytes: Buffer.from(tail.stdout() + tail.stderr(), 'utf8') });
        expect(code).toBe(EXIT.ok);
      }
    }, 60_000);

    it('no output of any command holds a secret or a hash of one; audit and as-of print no 64-hex value at all', () => {
      expect(outputs.length).toBeGreaterThan(8);
      expect(describeHits(scan(outputs, forbiddenIn('live-stream', flows.needles)))).toEqual([]);
      // tail prints CloudEvents, whose idphash and idpprevioushash are the events' own chain hashes.
      for (const output of outputs.filter((o) => o.name !== 'idp tail')) expect(output.bytes.toString('utf8')).not.toMatch(/[0-9a-f]{64}/);
    });
  });
}
