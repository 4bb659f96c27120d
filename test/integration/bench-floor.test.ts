import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { basicAuth, HttpClient, jsonOf } from '../bench/http.js';
import type { Pinning } from '../bench/pinning.js';
import { codeFlow } from '../bench/scenarios/scenario.js';
import { startFloor } from '../bench/targets/floor.js';
import type { Target } from '../bench/targets/target.js';

/**
 * The bench's floor (issue 12) is quoted as what the machine allows a server that keeps our
 * guarantees: so it must keep them. Each grant is a hash-chained event in its log before its answer
 * (the WAL's fsync before the answer is in floor-main.ts; no test here can see a disk flush),
 * a refresh token is single use and its reuse revokes the lineage, a wrong secret is refused,
 * and introspection refuses what it did not sign.
 */
const unpinned: Pinning = {
  pinned: false,
  reason: 'test',
  serverCore: 0,
  loadCore: 1,
  serverCommand: (args) => ({ command: process.execPath, args }),
  spawningOnServerCore: (start) => start(),
};

describe('the bench floor keeps the guarantees it is quoted for', () => {
  const http = new HttpClient(4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floor-test-'));
  let floor: Target;

  beforeAll(async () => {
    floor = await startFloor({ pinning: unpinned, http, dir });
  });
  afterAll(async () => {
    await floor.stop();
    http.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const tokenRequest = (form: Record<string, string>, clientId: string, secret: string) =>
    http.request(floor.tokenEndpoint, { form, headers: { authorization: basicAuth(clientId, secret) } });

  it('grants client credentials to the right secret only, and logs each grant as a chained event', async () => {
    const machine = floor.clients.machine!;
    const granted = await tokenRequest({ grant_type: 'client_credentials' }, machine.clientId, machine.clientSecret!);
    expect(granted.status).toBe(200);
    const { access_token } = jsonOf<{ access_token: string }>(granted);
    expect(JSON.parse(Buffer.from(access_token.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect((await tokenRequest({ grant_type: 'client_credentials' }, machine.clientId, `${machine.clientSecret!}x`)).status).toBe(401);

    const db = new Database(path.join(dir, 'floor.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT stream, type, data, hash FROM events ORDER BY position').all() as Array<Record<string, string>>;
      const jti = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()).jti as string;
      expect(rows.filter((r) => r.type === 'token.granted' && JSON.parse(r.data!).jti === jti)).toHaveLength(1);
      let previous = '0'.repeat(64);
      for (const row of rows) {
        previous = createHash('sha256').update(`${previous}\n${row.type}\n${row.stream}\n${row.data}`).digest('hex');
        expect(row.hash).toBe(previous);
      }
    } finally {
      db.close();
    }
  });

  it('rotates refresh tokens once, and a reuse revokes the lineage', async () => {
    const web = floor.clients.web;
    const user = { username: 'u', password: 'p' };
    const first = await codeFlow(floor, http, user, web, { scope: 'openid offline_access', prompt: 'consent' });
    expect(first.id_token).toBeDefined();
    const refresh = (token: string) => tokenRequest({ grant_type: 'refresh_token', refresh_token: token }, web.clientId, web.clientSecret!);
    const rotated = await refresh(first.refresh_token!);
    expect(rotated.status).toBe(200);
    const second = jsonOf<{ refresh_token: string }>(rotated).refresh_token;
    expect(second).not.toBe(first.refresh_token);
    const reused = await refresh(first.refresh_token!);
    expect([reused.status, jsonOf<{ error: string }>(reused).error]).toEqual([400, 'invalid_grant']);
    expect((await refresh(second)).status).toBe(400);
  });

  it('introspects its own live tokens for their client, and nothing else', async () => {
    const web = floor.clients.web;
    const tokens = await codeFlow(floor, http, { username: 'u', password: 'p' }, web, { scope: 'openid' });
    const introspect = async (token: string, clientId = web.clientId, secret = web.clientSecret!) =>
      http.request(floor.introspectionEndpoint, { form: { token }, headers: { authorization: basicAuth(clientId, secret) } });
    expect(jsonOf<{ active: boolean; jti: string }>(await introspect(tokens.access_token))).toMatchObject({ active: true });
    const [header, payload, signature] = tokens.access_token.split('.');
    const forged = `${header}.${payload}.${signature!.slice(0, -4)}AAAA`;
    expect(jsonOf<{ active: boolean }>(await introspect(forged)).active).toBe(false);
    const machine = floor.clients.machine!;
    expect(jsonOf<{ active: boolean }>(await introspect(tokens.access_token, machine.clientId, machine.clientSecret!)).active).toBe(false);
    expect((await introspect(tokens.access_token, web.clientId, 'wrong')).status).toBe(401);
  });
});
