import http from 'node:http';
import { startDistributed, type DistributedTopology } from '../support/distributed-topology.js';
import { startEmbeddedProcess, type EmbeddedProcess } from '../support/embedded-process.js';

/**
 * Registration out of the box: a warn line at start when it is open on an issuer others can
 * reach, and `POST /register` limited per source address (429 with Retry-After beyond it), in
 * both topologies. The servers listen on 127.0.0.1 whatever their issuer says; a second source
 * is 127.0.0.2 (Linux routes all of 127/8 to the loopback interface).
 */

const PUBLIC_ISSUER = 'https://idp.example.test';
const TOKEN = 'initial-access-token-for-the-warning-test';
const METADATA = JSON.stringify({ redirect_uris: ['https://rp.example.test/cb'], token_endpoint_auth_method: 'none' });

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** POST /register from a chosen local address (fetch cannot choose one). */
function register(baseUrl: string, from: string, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL('/register', baseUrl);
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    request.on('error', reject);
    request.end(METADATA);
  });
}

function openRegistrationWarnings(logs: string): Array<{ level: number; issuer: string; msg: string }> {
  return logs
    .split('\n')
    .filter((line) => line.includes('OPEN REGISTRATION'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as { level: number; issuer: string; msg: string });
}

/** 10 quick registrations are served, the 11th is 429 with Retry-After, another address is served. */
async function expectLimitedAtTen(baseUrl: string, headers: Record<string, string> = {}) {
  for (let i = 1; i <= 10; i++) expect([i, (await register(baseUrl, '127.0.0.1', headers)).status]).toEqual([i, 201]);
  const refused = await register(baseUrl, '127.0.0.1', headers);
  expect(refused.status).toBe(429);
  expect(refused.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(6);
  expect(refused.headers['cache-control']).toBe('no-store');
  expect(refused.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(refused.body)).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  expect((await register(baseUrl, '127.0.0.2', headers)).status).toBe(201);
}

describe('embedded', () => {
  let server: EmbeddedProcess | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  }, 30_000);

  test('open registration on a non-loopback issuer: one warn line at start saying who can register and how to stop it', async () => {
    server = await startEmbeddedProcess({ env: { ISSUER: PUBLIC_ISSUER } });
    const warnings = openRegistrationWarnings(server.logs());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, issuer: PUBLIC_ISSUER });
    expect(warnings[0]!.msg).toMatch(/anyone who can reach this issuer can register clients/);
    expect(warnings[0]!.msg).toMatch(/set IDP_INITIAL_ACCESS_TOKEN/);
  }, 60_000);

  test('no warning with a loopback issuer, nor with the initial access token set', async () => {
    server = await startEmbeddedProcess({});
    expect(openRegistrationWarnings(server.logs())).toEqual([]);
    await server.stop();
    server = await startEmbeddedProcess({ env: { ISSUER: PUBLIC_ISSUER, IDP_INITIAL_ACCESS_TOKEN: TOKEN } });
    expect(openRegistrationWarnings(server.logs())).toEqual([]);
    expect(server.logs()).not.toContain(TOKEN);
  }, 60_000);

  test('by default, the 11th quick registration from one address is 429 with Retry-After; another address is served', async () => {
    // Unset in the env: the server's own default (10 per minute, burst 10).
    server = await startEmbeddedProcess({ env: { IDP_REGISTRATION_RATE: '' } });
    await expectLimitedAtTen(server.issuer);
  }, 60_000);

  test('guessing the initial access token is limited too: wrong tokens use up the same bucket', async () => {
    server = await startEmbeddedProcess({ env: { IDP_REGISTRATION_RATE: '10/minute', IDP_INITIAL_ACCESS_TOKEN: TOKEN } });
    for (let i = 0; i < 10; i++) expect((await register(server.issuer, '127.0.0.1', { authorization: 'Bearer guess' })).status).toBe(401);
    const limited = await register(server.issuer, '127.0.0.1', { authorization: `Bearer ${TOKEN}` });
    expect(limited.status).toBe(429);
    expect((await register(server.issuer, '127.0.0.2', { authorization: `Bearer ${TOKEN}` })).status).toBe(201);
  }, 60_000);
});

describe('distributed', () => {
  let topology: DistributedTopology | undefined;
  afterAll(async () => {
    await topology?.stop();
  }, 60_000);

  test('the gateway warns about open registration on a non-loopback issuer, and limits registration per address', async () => {
    topology = await startDistributed({ env: { ISSUER: PUBLIC_ISSUER, IDP_REGISTRATION_RATE: '10/minute' } });
    const warnings = openRegistrationWarnings(topology.logs());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, issuer: PUBLIC_ISSUER });
    await expectLimitedAtTen(topology.issuer);
  }, 120_000);
});
