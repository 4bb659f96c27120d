import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import * as client from 'openid-client';
import { createClient } from 'redis';
import { GetClient, RegisterClient } from '../../contracts/messages/client-registry.js';
import type { OAuthError } from '../../contracts/oauth-error.js';
import { NatsBus } from '../../infra/bus/nats.js';
import { call } from '../../infra/bus/typed.js';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import type { RecordedEvent } from '../../infra/event-store/port.js';
import { Browser } from '../support/browser.js';
import { startDistributed, type DistributedTopology } from '../support/distributed-topology.js';

/**
 * What only the distributed topology can show (issue 4): gateways that share nothing but NATS,
 * a service killed mid-request, and the live event stream IDP_EVENTS mirroring the log.
 */
const USER = { username: `dora-${randomBytes(4).toString('hex')}`, password: `pw-${randomBytes(12).toString('base64url')}` };
const REDIRECT_URI = 'https://rp.example.test/cb';

let topology: DistributedTopology;

beforeAll(async () => {
  topology = await startDistributed({ user: USER });
}, 120_000);

afterAll(async () => {
  await topology?.stop();
}, 60_000);

const options = () => ({ execute: [client.allowInsecureRequests] });

async function registerClient(): Promise<client.Configuration> {
  return client.dynamicClientRegistration(
    new URL(topology.issuer),
    { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile' },
    client.ClientSecretBasic(),
    options(),
  );
}

/** Runs the browser part of a flow and returns the callback URL with the code. */
async function obtainCode(config: client.Configuration, browser: Browser): Promise<{ callback: URL; state: string }> {
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile', state });
  const { callback } = await browser.authorize(url, { ...USER, consent: 'allow' });
  return { callback, state };
}

function tokenForm(code: string, config: client.Configuration) {
  const secret = config.clientMetadata().client_secret as string;
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(config.clientMetadata().client_id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }).toString(),
  };
}

async function readLog(): Promise<RecordedEvent[]> {
  const store = await JetStreamEventStore.connect(topology.natsUrl, { connection: topology.natsAs('admin') });
  try {
    return await store.readAll();
  } finally {
    await store.close();
  }
}

describe('distributed topology: four processes over NATS, JetStream log, Redis projections', () => {
  it('a code replayed through one gateway revokes the grant; the other gateway rejects its token on the next call', async () => {
    const second = await topology.startExtraGateway();
    try {
      const config = await registerClient();
      const { callback, state } = await obtainCode(config, new Browser());
      const tokens = await client.authorizationCodeGrant(config, callback, { expectedState: state });
      const bearer = { authorization: `Bearer ${tokens.access_token}` };

      // Both gateways accept the token while the grant stands.
      expect((await fetch(`${topology.issuer}/userinfo`, { headers: bearer })).status).toBe(200);
      expect((await fetch(`${second.url}/userinfo`, { headers: bearer })).status).toBe(200);

      // Replay the code through the second gateway.
      const code = callback.searchParams.get('code')!;
      const replay = await fetch(`${second.url}/token`, tokenForm(code, config));
      expect(replay.status).toBe(400);
      expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });

      // The very next call through the first gateway already refuses the token.
      const after = await fetch(`${topology.issuer}/userinfo`, { headers: bearer });
      expect(after.status).toBe(401);
      expect(after.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('the same code redeemed at the same moment through two gateways and two token-issuer replicas: exactly one wins', async () => {
    const gateway2 = await topology.startExtraGateway();
    const replica = await topology.startReplica('token-issuer');
    try {
      const config = await registerClient();
      const browser = new Browser();
      for (let round = 0; round < 5; round++) {
        const code = (await obtainCode(config, browser)).callback.searchParams.get('code')!;
        const answers = await Promise.all([
          fetch(`${topology.issuer}/token`, tokenForm(code, config)),
          fetch(`${gateway2.url}/token`, tokenForm(code, config)),
        ]);
        const statuses = answers.map((a) => a.status).sort();
        expect(statuses).toEqual([200, 400]);
        const winner = answers.find((a) => a.status === 200)!;
        const { access_token } = (await winner.json()) as { access_token: string };
        // The loser's attempt is a replay: the grant is revoked and the winner's token refused.
        const userinfo = await fetch(`${gateway2.url}/userinfo`, { headers: { authorization: `Bearer ${access_token}` } });
        expect(userinfo.status).toBe(401);
        const grant = (await readLog()).filter((e) => e.streamName === `grant-default-${code.split('.')[0]}`).map((e) => e.type);
        expect(grant).toEqual([
          'authorization_code.issued',
          'authorization_code.redeemed',
          'tokens.issued',
          'authorization_code.replay_detected',
          'grant.revoked',
        ]);
      }
    } finally {
      await replica.stop();
      await gateway2.stop();
    }
  }, 120_000);

  it('a killed token-issuer gives 503 temporarily_unavailable with Retry-After, writes no half grant, and serves again once restarted', async () => {
    const config = await registerClient();
    const browser = new Browser();
    const first = (await obtainCode(config, browser)).callback.searchParams.get('code')!;
    const second = (await obtainCode(config, browser)).callback.searchParams.get('code')!;

    // Killed while a token request is in flight: that request gets its tokens or a 503, nothing else.
    const inFlight = fetch(`${topology.issuer}/token`, tokenForm(first, config));
    await topology.kill('token-issuer');
    const raced = await inFlight;
    expect([200, 503]).toContain(raced.status);

    // While it is down: 503 temporarily_unavailable with Retry-After, never a 500 or a hang.
    const down = await fetch(`${topology.issuer}/token`, tokenForm(second, config));
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(down.headers.get('cache-control')).toBe('no-store');
    expect(await down.json()).toMatchObject({ error: 'temporarily_unavailable' });

    // No half-written grant: each grant holds its code alone, or the code with its whole redemption.
    const log = await readLog();
    const typesOf = (code: string) => log.filter((e) => e.streamName === `grant-default-${code.split('.')[0]}`).map((e) => e.type);
    const whole = ['authorization_code.issued', 'authorization_code.redeemed', 'tokens.issued'];
    expect([whole.slice(0, 1), whole]).toContainEqual(typesOf(first));
    expect(typesOf(second)).toEqual(['authorization_code.issued']);

    // Restarted alone, it serves again: the code that met the outage is still good.
    await topology.restart('token-issuer');
    const served = await fetch(`${topology.issuer}/token`, tokenForm(second, config));
    expect(served.status).toBe(200);
    expect(await served.json()).toMatchObject({ token_type: 'Bearer' });
    if (raced.status === 503) {
      // Killed between the append and the reply, the redemption stands and a retry is a replay;
      // killed before the append, nothing was written and the code is still good.
      const redeemed = typesOf(first).length === whole.length;
      expect((await fetch(`${topology.issuer}/token`, tokenForm(first, config))).status).toBe(redeemed ? 400 : 200);
    }
  }, 120_000);

  it('IDP_EVENTS carries every event of the log once, in $all order, also across relay restarts', async () => {
    // Restart every service that may hold the relay lease, with traffic in between.
    const config = await registerClient();
    const browser = new Browser();
    for (const name of ['authn', 'client-registry', 'token-issuer'] as const) {
      await topology.restart(name);
      const { callback, state } = await obtainCode(config, browser);
      await client.authorizationCodeGrant(config, callback, { expectedState: state });
    }

    const log = await readLog();
    const expected = log.map((e) => (e.metadata as { eventId: string }).eventId);
    const nc = await connect({ servers: topology.natsUrl, ...topology.natsAs('admin') });
    try {
      const jsm = await jetstreamManager(nc);
      let published: Array<{ id: string; subject: string }> = [];
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const { state } = await jsm.streams.info('IDP_EVENTS');
        published = [];
        for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
          const message = await jsm.streams.getMessage('IDP_EVENTS', { seq });
          if (message) published.push({ id: (message.json() as { id: string }).id, subject: message.subject });
        }
        if (published.length >= expected.length) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(published.map((p) => p.id)).toEqual(expected);
      expect(new Set(published.map((p) => p.id)).size).toBe(published.length);
      const grantIssued = log.find((e) => e.type === 'authorization_code.issued')!;
      const index = expected.indexOf((grantIssued.metadata as { eventId: string }).eventId);
      expect(published[index]!.subject).toBe('idp.events.default.grant.authorization_code.issued');
    } finally {
      await nc.close();
    }
  }, 180_000);
  it('a bus message with malformed metadata or a lone surrogate is refused, nothing is appended, and every follower keeps following', async () => {
    // The admin may register clients (contracts/messages: callers) and read the live stream.
    const bus = await NatsBus.connect(topology.natsUrl, { name: 'test-hostile-caller', connection: topology.natsAs('admin') });
    const nc = await connect({ servers: topology.natsUrl, ...topology.natsAs('admin') });
    try {
      const good = { tenant: 'default', correlationId: 'hostile-1', causationId: null, actor: { kind: 'system' as const, id: 'test' } };
      const metadata = { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' };
      const before = (await readLog()).length;
      const refusals = await Promise.all(
        [
          { ctx: { ...good, traceparent: 'not-a-traceparent' }, metadata },
          { ctx: { ...good, traceparent: '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01' }, metadata },
          { ctx: { ...good, actor: { kind: 'system' as const, id: 'x'.repeat(300) } }, metadata },
          { ctx: good, metadata: { ...metadata, client_name: 'lone \ud800 surrogate' } },
        ].map((request) => call(bus, RegisterClient, request).then(() => 'accepted', (e: unknown) => (e as OAuthError).code)),
      );
      expect(refusals).toEqual(['invalid_request', 'invalid_request', 'invalid_request', 'invalid_request']);
      expect((await readLog()).length).toBe(before);

      // The followers keep following: a well-formed registration is projected, published on
      // IDP_EVENTS, and every service stays ready.
      const { client: registered } = await call(bus, RegisterClient, { ctx: good, metadata });
      expect((await call(bus, GetClient, { ctx: good, clientId: registered.clientId })).client?.clientId).toBe(registered.clientId);
      const log = await readLog();
      const jsm = await jetstreamManager(nc);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const info = await jsm.streams.info('IDP_EVENTS');
        const last = await jsm.streams.getMessage('IDP_EVENTS', { seq: info.state.last_seq });
        if (Number(last?.header?.get('Idp-Position')) === log.at(-1)!.position) break;
        if (Date.now() > deadline) throw new Error('IDP_EVENTS did not reach the end of the log');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (const name of ['authn', 'client-registry', 'token-issuer'] as const) {
        expect((await fetch(`${topology.healthUrl(name)}/readyz`)).status).toBe(200);
      }
    } finally {
      await nc.close();
      await bus.close();
    }
  }, 60_000);

  it('every process serves /healthz, /readyz and Prometheus /metrics with request, append and projection figures', async () => {
    for (const name of ['gateway', 'authn', 'client-registry', 'token-issuer'] as const) {
      const base = topology.healthUrl(name);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready' });
    }
    const gateway = await (await fetch(`${topology.healthUrl('gateway')}/metrics`)).text();
    expect(gateway).toMatch(/idp_http_requests_total\{method="POST",route="\/token",status="200"\} [1-9]/);
    expect(gateway).toMatch(/idp_http_request_duration_seconds_bucket\{/);
    // Route templates only: no code, state or token ever becomes a label value.
    expect(gateway).not.toMatch(/route="[^"]*\?/);
    const issuer = await (await fetch(`${topology.healthUrl('token-issuer')}/metrics`)).text();
    expect(issuer).toMatch(/idp_events_appended_total\{type="tokens.issued"\} [1-9]/);
    expect(issuer).toMatch(/idp_bus_requests_total\{subject="idp.token-issuer.grant_tokens",outcome="ok"\} [1-9]/);
    expect(issuer).toMatch(/idp_follower_position\{follower="token-issuer"\} [1-9]/);
    expect(issuer).toMatch(/idp_follower_lag_seconds\{follower="token-issuer"\} 0$/m);
    expect(issuer).toMatch(/idp_follower_state\{follower="token-issuer"\} 2$/m); // live
  }, 30_000);

  it('no plaintext secret of a flow reaches JetStream (log, live stream, KV buckets) or Redis', async () => {
    const config = await registerClient();
    const browser = new Browser();
    const { callback, state } = await obtainCode(config, browser);
    const code = callback.searchParams.get('code')!;
    const tokens = await client.authorizationCodeGrant(config, callback, { expectedState: state });
    const sessionCookie = browser.cookie('idp_session')!.value;
    const secrets: Record<string, string> = {
      password: USER.password,
      clientSecret: config.clientMetadata().client_secret as string,
      code,
      codeSecret: code.split('.')[1]!,
      accessToken: tokens.access_token,
      idToken: tokens.id_token!,
      sessionCookie,
      sessionSecret: sessionCookie.split('.')[1]!,
    };
    const dump = (await dumpJetStream(topology)) + (await dumpRedis(topology.redisUrl));
    // The dump does hold what is not secret, so an empty dump cannot pass.
    expect(dump).toContain(config.clientMetadata().client_id);
    expect(dump).toContain(code.split('.')[0]!);
    for (const [name, value] of Object.entries(secrets)) {
      expect({ name, found: dump.includes(value) }).toEqual({ name, found: false });
    }

    // The live stream carries the allow-listed projection of each event: the log holds the
    // user's argon2id hash (sealed) and the SHA-256 of the client secret, code, session and
    // tokens, while the data on IDP_EVENTS holds none of them (the hash chain's own idphash aside).
    const live = await liveStreamUntil(topology, (e) => e.type === 'tokens.issued' && e.data?.grantId === code.split('.')[0]);
    const types = live.map((e) => e.type);
    for (const type of ['user.registered', 'client.registered', 'session.started', 'authorization_code.issued', 'tokens.issued']) expect(types).toContain(type);
    const data = JSON.stringify(live.map((e) => e.data ?? null));
    expect(data).toContain(config.clientMetadata().client_id);
    expect(data).not.toContain('$argon2id$');
    expect(data.match(/[0-9a-f]{64}/g)).toBeNull();
    expect(dump.match(/[0-9a-f]{64}/g)).not.toBeNull(); // SHA-256 hashes in the log, so the check above can fail
    // The password hash is sealed under the user's data key: no PHC string, not even in the log.
    expect(dump).not.toContain('$argon2id$');
  }, 60_000);

  // Last: it takes Redis away for good.
  it('/readyz answers 503 naming the projections once Redis is gone, while /healthz stays 200', async () => {
    await topology.stopRedis();
    const base = topology.healthUrl('authn');
    let ready: Response | undefined;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      ready = await fetch(`${base}/readyz`);
      if (ready.status === 503) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(ready!.status).toBe(503);
    const body = (await ready!.json()) as { checks: Record<string, string> };
    expect(body.checks.projections).not.toBe('ok');
    expect(body.checks.bus).toBe('ok');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  }, 30_000);
});

/** The CloudEvents on IDP_EVENTS, read again until one satisfies `until` (the relay is a follower). */
async function liveStreamUntil(
  topology: DistributedTopology,
  until: (event: { type: string; data?: Record<string, unknown> }) => boolean,
): Promise<{ type: string; data?: Record<string, unknown> }[]> {
  const nc = await connect({ servers: topology.natsUrl, ...topology.natsAs('admin') });
  try {
    const jsm = await jetstreamManager(nc);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { state } = await jsm.streams.info('IDP_EVENTS');
      const events: { type: string; data?: Record<string, unknown> }[] = [];
      for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
        events.push((await jsm.streams.getMessage('IDP_EVENTS', { seq }))!.json());
      }
      if (events.some(until)) return events;
      if (Date.now() > deadline) throw new Error('IDP_EVENTS did not catch up with the flow');
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await nc.close();
  }
}

/**
 * Every message of every JetStream stream (log, live stream, KV buckets): subject, headers, body.
 * Read as authn, the one identity that may read all four (no identity may list streams).
 */
async function dumpJetStream(topology: DistributedTopology): Promise<string> {
  const nc = await connect({ servers: topology.natsUrl, ...topology.natsAs('authn') });
  try {
    const jsm = await jetstreamManager(nc);
    const parts: string[] = [];
    for (const name of ['IDP_LOG', 'IDP_EVENTS', 'KV_idp_data_keys', 'KV_idp_leases']) {
      const info = await jsm.streams.info(name);
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const message = await jsm.streams.getMessage(info.config.name, { seq }).catch(() => null);
        if (message) parts.push(message.subject, JSON.stringify(message.header ? [...message.header.keys()].map((k) => [k, message.header.get(k)]) : []), message.string());
      }
    }
    return parts.join('\n');
  } finally {
    await nc.close();
  }
}

/** Every key and value in Redis, whatever its type. */
async function dumpRedis(redisUrl: string): Promise<string> {
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  try {
    const parts: string[] = [];
    for await (const keys of redis.scanIterator({ COUNT: 500 })) {
      for (const key of keys) {
        const type = await redis.type(key);
        const value = type === 'hash' ? await redis.hGetAll(key) : type === 'string' ? await redis.get(key) : type;
        parts.push(key, JSON.stringify(value));
      }
    }
    return parts.join('\n');
  } finally {
    await redis.close();
  }
}
