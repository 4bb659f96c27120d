import { createHash, generateKeyPairSync, hash, randomBytes, randomUUID, sign, timingSafeEqual, verify } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import { announceReady } from './child-server.js';

/**
 * The floor (issue 12): the least a server must do for a scenario while keeping our guarantees,
 * with nothing else. No framework, no bus, no validation library, no metrics, no logs: node:http,
 * the client's authentication (a SHA-256 of its secret, compared in constant time), an ES256 JWT
 * signed with node:crypto, and one hash-chained event per grant in a SQLite WAL that is fsynced
 * before the response (concurrent grants share one commit and one fsync, as our group commit
 * does). Introspection verifies a token once per token text and checks a revocation set; a
 * refresh rotates its token (single use, the lineage revoked at a reuse) with one event.
 *
 * It is not a server anyone should run: it refuses what it does not know and checks little. It
 * says what the machine allows: a target above the floor's own figure cannot be met by any server
 * that keeps the guarantees. The authorization endpoint answers at once with a code (no login):
 * it only serves to obtain the introspection scenario's token through the same code + PKCE flow.
 */
const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = process.env.BENCH_REDIRECT_URI ?? '';
const dir = process.env.BENCH_FLOOR_DIR ?? '';

// --- the log: one hash-chained row per event, committed in groups, the WAL fsynced before an answer
const db = new Database(path.join(dir, 'floor.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, hash TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO events (stream, type, data, hash) VALUES (?, ?, ?, ?)');
const wal = fs.openSync(path.join(dir, 'floor.db-wal'), 'r+');

interface Pending {
  stream: string;
  type: string;
  data: string;
  done(error: Error | null): void;
}
let lastHash = '0'.repeat(64);
let waiting: Pending[] = [];
let syncing = false;

const commit = db.transaction((events: Pending[]) => {
  for (const event of events) {
    lastHash = hash('sha256', `${lastHash}\n${event.type}\n${event.stream}\n${event.data}`, 'hex');
    insert.run(event.stream, event.type, event.data, lastHash);
  }
});

function flush(): void {
  const events = waiting;
  waiting = [];
  try {
    commit(events);
  } catch (error) {
    for (const event of events) event.done(error as Error);
    return;
  }
  syncing = true;
  fs.fdatasync(wal, (error) => {
    syncing = false;
    for (const event of events) event.done(error);
    if (waiting.length > 0) flush();
  });
}

function append(stream: string, type: string, data: object): Promise<void> {
  return new Promise((resolve, reject) => {
    waiting.push({ stream, type, data: JSON.stringify(data), done: (error) => (error ? reject(error) : resolve()) });
    if (waiting.length === 1 && !syncing) setImmediate(flush);
  });
}

// --- clients, keys, tokens
const secret = () => randomBytes(32).toString('base64url');
const clients = {
  machine: { clientId: 'floor-machine', clientSecret: secret() },
  web: { clientId: 'floor-web', clientSecret: secret() },
  spa: { clientId: 'floor-spa' },
};
const secretHashes = new Map<string, Buffer>([
  [clients.machine.clientId, hash('sha256', clients.machine.clientSecret, 'buffer')],
  [clients.web.clientId, hash('sha256', clients.web.clientSecret, 'buffer')],
]);
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const ACCESS_TOKEN_HEADER = b64url({ alg: 'ES256', typ: 'at+jwt', kid: 'floor' });
const ID_TOKEN_HEADER = b64url({ alg: 'ES256', typ: 'JWT', kid: 'floor' });

function jwt(header: string, claims: object): string {
  const input = `${header}.${b64url(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

interface AccessClaims {
  jti: string;
  client_id: string;
  sub: string;
  exp: number;
  scope: string;
}
const verified = new Map<string, AccessClaims>();
const revoked = new Set<string>();
const codes = new Map<string, { clientId: string; challenge: string; sub: string; scope: string }>();
/** Refresh tokens by their SHA-256; a used one is kept: presented again, it revokes its lineage. */
const refreshTokens = new Map<string, { clientId: string; sub: string; scope: string; lineage: string; used: boolean }>();
const revokedLineages = new Set<string>();

/** The client of a request: Basic credentials of a confidential client, or `client_id` of a public one. */
function clientOf(req: http.IncomingMessage, form: URLSearchParams): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const [id = '', given = ''] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':').map(decodeURIComponent);
    const stored = secretHashes.get(id);
    return stored && timingSafeEqual(stored, hash('sha256', given, 'buffer')) ? id : undefined;
  }
  const id = form.get('client_id');
  return id === clients.spa.clientId ? id : undefined;
}

/** Signed tokens for one grant, and its event; a refresh token (and its lineage) with offline_access. */
async function grant(clientId: string, sub: string, scope: string, idToken: boolean, lineage?: string): Promise<object> {
  const iat = Math.floor(Date.now() / 1000);
  const jti = randomUUID();
  const claims = { iss: issuer, sub, aud: issuer, client_id: clientId, iat, exp: iat + 600, jti, scope };
  const accessToken = jwt(ACCESS_TOKEN_HEADER, claims);
  const id = idToken ? jwt(ID_TOKEN_HEADER, { iss: issuer, sub, aud: clientId, iat, exp: iat + 600 }) : undefined;
  const refresh = scope.split(' ').includes('offline_access') ? randomBytes(32).toString('base64url') : undefined;
  const refreshHash = refresh ? hash('sha256', refresh, 'hex') : undefined;
  const refreshLineage = refresh ? (lineage ?? randomUUID()) : undefined;
  await append(`grant-${refreshLineage ?? jti}`, 'token.granted', { jti, clientId, sub, scope, iat, exp: iat + 600, refreshHash });
  if (refreshHash && refreshLineage) refreshTokens.set(refreshHash, { clientId, sub, scope, lineage: refreshLineage, used: false });
  return { access_token: accessToken, token_type: 'Bearer', expires_in: 600, ...(id ? { id_token: id } : {}), ...(refresh ? { refresh_token: refresh } : {}), scope };
}

/** RFC 6749 §6 with rotation (RFC 9700 §4.14.2): single use; a used token presented again revokes its lineage. */
async function refreshGrant(clientId: string, presented: string): Promise<[number, object]> {
  const refreshHash = hash('sha256', presented, 'hex');
  const stored = refreshTokens.get(refreshHash);
  if (!stored || stored.clientId !== clientId || revokedLineages.has(stored.lineage)) return [400, { error: 'invalid_grant' }];
  if (stored.used) {
    revokedLineages.add(stored.lineage);
    await append(`grant-${stored.lineage}`, 'refresh.reused', { refreshHash });
    return [400, { error: 'invalid_grant' }];
  }
  stored.used = true;
  return [200, await grant(clientId, stored.sub, stored.scope, stored.scope.split(' ').includes('openid'), stored.lineage)];
}

async function token(req: http.IncomingMessage, form: URLSearchParams): Promise<[number, object]> {
  const clientId = clientOf(req, form);
  if (!clientId) return [401, { error: 'invalid_client' }];
  const grantType = form.get('grant_type');
  if (grantType === 'client_credentials' && clientId === clients.machine.clientId) return [200, await grant(clientId, clientId, '', false)];
  if (grantType === 'authorization_code') {
    const code = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    const verifier = form.get('code_verifier') ?? '';
    if (!code || code.clientId !== clientId || createHash('sha256').update(verifier).digest('base64url') !== code.challenge) {
      return [400, { error: 'invalid_grant' }];
    }
    return [200, await grant(clientId, code.sub, code.scope, true)];
  }
  if (grantType === 'refresh_token' && clientId === clients.web.clientId) return refreshGrant(clientId, form.get('refresh_token') ?? '');
  return [400, { error: 'unsupported_grant_type' }];
}

function introspect(req: http.IncomingMessage, form: URLSearchParams): [number, object] {
  const clientId = clientOf(req, form);
  if (!clientId) return [401, { error: 'invalid_client' }];
  const text = form.get('token') ?? '';
  let claims = verified.get(text);
  if (!claims) {
    const [header = '', payload = '', signature = ''] = text.split('.');
    const valid = verify('sha256', Buffer.from(`${header}.${payload}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
    if (!valid) return [200, { active: false }];
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as AccessClaims;
    verified.set(text, claims);
  }
  if (revoked.has(claims.jti) || claims.exp <= Date.now() / 1000 || claims.client_id !== clientId) return [200, { active: false }];
  return [200, { active: true, token_type: 'Bearer', ...claims }];
}

async function authorize(url: URL): Promise<string | undefined> {
  const q = url.searchParams;
  if (q.get('redirect_uri') !== redirectUri || q.get('code_challenge_method') !== 'S256') return undefined;
  const code = randomBytes(32).toString('base64url');
  const clientId = q.get('client_id') ?? '';
  codes.set(code, { clientId, challenge: q.get('code_challenge') ?? '', sub: 'floor-user', scope: q.get('scope') ?? '' });
  await append(`code-${hash('sha256', code, 'hex')}`, 'code.issued', { clientId, sub: 'floor-user' });
  return `${redirectUri}?code=${code}&state=${encodeURIComponent(q.get('state') ?? '')}`;
}

function reply(res: http.ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const discovery = {
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  introspection_endpoint: `${issuer}/introspect`,
  grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
  id_token_signing_alg_values_supported: ['ES256'],
};

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', issuer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const answer = async (): Promise<void> => {
      if (req.method === 'POST' && url.pathname === '/token') return reply(res, ...(await token(req, form)));
      if (req.method === 'POST' && url.pathname === '/introspect') return reply(res, ...introspect(req, form));
      if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') return reply(res, 200, discovery);
      if (req.method === 'GET' && url.pathname === '/authorize') {
        const location = await authorize(url);
        if (!location) return reply(res, 400, { error: 'invalid_request' });
        res.writeHead(303, { location });
        res.end();
        return;
      }
      reply(res, 404, { error: 'not_found' });
    };
    answer().catch((error: Error) => reply(res, 500, { error: 'server_error', error_description: error.message }));
  });
});

server.listen(port, '127.0.0.1', () => announceReady({ issuer, clients }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
