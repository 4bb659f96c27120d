import fs from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';
import { hashPassword, verifyPassword } from '../../../infra/crypto/passwords.js';
import { announceReady } from './child-server.js';
import type { BenchUser } from './target.js';

/**
 * node oidc-provider for the bench, as its own child process on the server core: its default
 * in-memory configuration (memory adapter, development keys, opaque access tokens), with only
 * what the scenarios need switched on: client credentials, introspection, revocation, refresh
 * token rotation, a findAccount over the bench's users and a login interaction driven over HTTP.
 * The login checks the password against an argon2id hash made with our parameters (the same
 * library and cost as our authn), so that a code flow costs both servers one verification.
 */
interface Fixture {
  issuer: string;
  port: number;
  redirectUri: string;
  clients: { machine: { clientId: string; clientSecret: string }; web: { clientId: string; clientSecret: string }; spa: { clientId: string } };
  users: BenchUser[];
}

const fixture = JSON.parse(fs.readFileSync(process.env.BENCH_FIXTURE_FILE ?? '', 'utf8')) as Fixture;
const hashes = new Map<string, string>();
for (const user of fixture.users) hashes.set(user.username, await hashPassword(user.password));

const { machine, web, spa } = fixture.clients;
const provider = new Provider(fixture.issuer, {
  clients: [
    {
      client_id: machine.clientId,
      client_secret: machine.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: web.clientId,
      client_secret: web.clientSecret,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [fixture.redirectUri],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: spa.clientId,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [fixture.redirectUri],
      token_endpoint_auth_method: 'none',
    },
  ],
  features: {
    devInteractions: { enabled: false }, // replaced by the login below
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  rotateRefreshToken: true,
  async findAccount(_ctx: unknown, id: string) {
    if (!hashes.has(id)) return undefined;
    return { accountId: id, claims: async () => ({ sub: id }) };
  },
});

const providerCallback = provider.callback();
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/;

async function interaction(req: http.IncomingMessage, res: http.ServerResponse, uid: string, login: boolean): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (!login) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(
      `<!doctype html><title>Sign in</title><form method="post" action="/interaction/${uid}/login">` +
        '<input name="login" autocomplete="username"><input name="password" type="password"><button>Sign in</button></form>',
    );
    return;
  }
  const form = new URLSearchParams(await bodyOf(req));
  const accountId = form.get('login') ?? '';
  const hash = hashes.get(accountId);
  if (!hash || !(await verifyPassword(hash, form.get('password') ?? ''))) {
    res.writeHead(401, { 'content-type': 'text/plain' });
    res.end('wrong username or password');
    return;
  }
  // Login and consent in one step: a grant of every scope the client asked for.
  const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

function bodyOf(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = http.createServer((req, res) => {
  const match = INTERACTION.exec(req.url ?? '');
  if (!match) return providerCallback(req, res);
  interaction(req, res, match[1]!, match[2] !== undefined && req.method === 'POST').catch((error: unknown) => {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`interaction failed: ${(error as Error).message}`);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(fixture.port, '127.0.0.1', () => announceReady({ issuer: fixture.issuer, users: fixture.users.length }));

const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
