import { createHash, randomBytes } from 'node:crypto';
import { Browser } from '../support/browser.js';
import { startDistributedIdp, startEmbeddedIdp, type IdpUnderTest } from '../support/idp-under-test.js';

/**
 * `npm run bench:hot-paths`: the hot paths of the authorization code flow against a real deployment on
 * 127.0.0.1, bounded in count and time. Figures are latencies (p50/p95/p99) and throughput.
 *
 *   BENCH_TOPOLOGY=embedded|distributed (default embedded)
 *   BENCH_N=<requests per scenario> (default 400)   BENCH_CONCURRENCY=<in flight> (default 16)
 *   BENCH_ISSUER=http://127.0.0.1:<port> with BENCH_USERNAME / BENCH_PASSWORD: an IdP already
 *   running on this machine (e.g. under a profiler) instead of one started here
 *
 * Scenarios: issuing a code for a signed-in, consented user (GET /authorize -> 303), redeeming it
 * (POST /token: client authentication, one grant decision and append, two signatures), and
 * userinfo (token validation + claims).
 */
const N = Number(process.env.BENCH_N ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const TOPOLOGY = process.env.BENCH_TOPOLOGY ?? 'embedded';
const DEADLINE_MS = 120_000; // per scenario: a bench never runs away
const REDIRECT_URI = 'https://rp.example.test/cb';
const USER = {
  username: process.env.BENCH_USERNAME ?? `bench-${randomBytes(3).toString('hex')}`,
  password: process.env.BENCH_PASSWORD ?? randomBytes(12).toString('base64url'),
};

function startIdp(): Promise<IdpUnderTest> {
  const start = TOPOLOGY === 'distributed' ? startDistributedIdp : startEmbeddedIdp;
  return start({ user: USER, env: { LOG_LEVEL: 'warn' } });
}

function external(issuer: string): IdpUnderTest {
  if (!/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(issuer)) throw new Error('BENCH_ISSUER must be on 127.0.0.1');
  return { issuer, logs: () => '', stop: async () => {} };
}

interface Result {
  scenario: string;
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
}

async function measure(scenario: string, count: number, one: (i: number) => Promise<boolean>): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count && performance.now() - started < DEADLINE_MS) {
      const i = next++;
      const t0 = performance.now();
      const ok = await one(i).catch(() => false);
      latencies.push(performance.now() - t0);
      if (!ok) errors++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { scenario, requests: latencies.length, seconds, perSecond: latencies.length / seconds, p50: pct(50), p95: pct(95), p99: pct(99), errors };
}

async function main(): Promise<void> {
  const idp: IdpUnderTest = process.env.BENCH_ISSUER ? external(process.env.BENCH_ISSUER) : await startIdp();
  try {
    const registration = await fetch(`${idp.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], client_name: 'bench', scope: 'openid profile' }),
    });
    const client = (await registration.json()) as { client_id: string; client_secret: string };
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`;

    const verifier = randomBytes(32).toString('base64url');
    const authorizeUrl = new URL(`${idp.issuer}/authorize`);
    authorizeUrl.search = new URLSearchParams({
      client_id: client.client_id,
      response_type: 'code',
      scope: 'openid profile',
      redirect_uri: REDIRECT_URI,
      state: 'bench',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();

    // Sign in and consent once; every later authorization goes straight to the redirect.
    const browser = new Browser();
    await browser.authorize(authorizeUrl, { ...USER, consent: 'allow' });
    const session = browser.cookie('idp_session');
    if (!session) throw new Error('no session cookie after the first login');
    const cookie = `idp_session=${session.value}`;

    const codes: string[] = [];
    const results: Result[] = [];
    results.push(
      await measure('GET /authorize -> code', N, async () => {
        const response = await fetch(authorizeUrl, { headers: { cookie }, redirect: 'manual' });
        const code = new URL(response.headers.get('location') ?? 'x:').searchParams.get('code');
        if (response.status !== 303 || !code) return false;
        codes.push(code);
        return true;
      }),
    );

    const accessTokens: string[] = [];
    results.push(
      await measure('POST /token (authorization_code)', codes.length, async (i) => {
        const response = await fetch(`${idp.issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
          body: new URLSearchParams({ grant_type: 'authorization_code', code: codes[i]!, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
        });
        if (response.status !== 200) return false;
        accessTokens.push(((await response.json()) as { access_token: string }).access_token);
        return true;
      }),
    );

    const token = accessTokens[0];
    if (!token) throw new Error('no access token was issued');
    results.push(
      await measure('GET /userinfo', N, async () => {
        const response = await fetch(`${idp.issuer}/userinfo`, { headers: { authorization: `Bearer ${token}` } });
        await response.arrayBuffer();
        return response.status === 200;
      }),
    );

    process.stdout.write(`\nbench: ${TOPOLOGY} topology, ${N} requests per scenario, ${CONCURRENCY} in flight, 127.0.0.1\n\n`);
    process.stdout.write('| scenario | requests | req/s | p50 ms | p95 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|\n');
    for (const r of results) {
      process.stdout.write(
        `| ${r.scenario} | ${r.requests} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} |\n`,
      );
    }
    if (results.some((r) => r.errors > 0)) process.exitCode = 1;
  } finally {
    await idp.stop();
  }
}

await main();
