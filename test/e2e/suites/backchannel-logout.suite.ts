import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { Browser } from '../../support/browser.js';
import type { LogWatch, LoggedEvent } from '../../support/log-watch.js';

/**
 * OpenID Connect Back-Channel Logout 1.0 end to end, per topology: a relying party's receiver on
 * 127.0.0.1 gets the logout token the OP POSTs when a session it took part in ends. The sending
 * follows the log (`session.ended`), so a sender stopped mid-delivery finishes after its restart,
 * and the log shows every attempt. Runners: backchannel-logout.<topology>.e2e.test.ts, which start
 * their own IdP with short retry delays (IDP_BACKCHANNEL_LOGOUT_*).
 */
export interface BackchannelIdp {
  issuer: string;
  watchLog(): Promise<LogWatch>;
  /** Stops the process that sends logouts and starts it again on the same log. */
  restartSender(): Promise<void>;
  /** Distributed: another token-issuer replica, a second sender following the same log. */
  startSecondSender?(): Promise<{ stop(): Promise<void> }>;
  /** Everything the deployment's processes printed (all of them, restarted ones too). */
  logs(): string;
  stop(): Promise<void>;
}

/** Short retries for the tests: 300 ms doubling, up to 10 attempts, 2 s per POST. */
/** A back-channel URI is the operator's to allow: registered with the initial access token only. */
const INITIAL_ACCESS_TOKEN = `iat-${randomBytes(16).toString('hex')}`;

export const BACKCHANNEL_TEST_ENV = {
  IDP_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN,
  IDP_BACKCHANNEL_LOGOUT_BACKOFF_MS: '300',
  IDP_BACKCHANNEL_LOGOUT_ATTEMPTS: '10',
  IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS: '2000',
};

interface Received {
  path: string;
  contentType: string;
  form: URLSearchParams;
}

/** The RPs' back-channel endpoints: records every POST, answers each path's configured status. */
class Receiver {
  readonly received: Received[] = [];
  readonly status = new Map<string, number>();
  private server!: http.Server;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        this.received.push({ path, contentType: String(request.headers['content-type']), form: new URLSearchParams(Buffer.concat(chunks).toString()) });
        response.writeHead(this.status.get(path) ?? 200, { 'cache-control': 'no-store' }).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const REDIRECT_URI = 'https://rp.example.test/bc-cb';
const options = () => ({ execute: [client.allowInsecureRequests], initialAccessToken: INITIAL_ACCESS_TOKEN });

export function describeBackchannelLogout(
  topology: string,
  start: () => Promise<BackchannelIdp>,
  user: { username: string; password: string },
  /** Whether the deployment can run a second sender (distributed: a token-issuer replica). */
  replicas = false,
): void {
  describe(`back-channel logout (${topology})`, () => {
    let idp: BackchannelIdp;
    let log: LogWatch;
    const receiver = new Receiver();
    /** Every event appended since the suite started, read from the log. */
    const events: LoggedEvent[] = [];
    const readLog = async () => {
      events.push(...(await log.appendedEvents()));
      return events;
    };

    beforeAll(async () => {
      await receiver.start();
      idp = await start();
      log = await idp.watchLog();
    }, 120_000);

    afterAll(async () => {
      await log?.close();
      await idp?.stop();
      await receiver.stop();
    }, 60_000);

    const register = (extra: Record<string, unknown>) =>
      client.dynamicClientRegistration(
        new URL(idp.issuer),
        { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid', ...extra },
        client.ClientSecretBasic(),
        options(),
      );

    async function signIn(config: client.Configuration, browser: Browser) {
      const state = client.randomState();
      const { callback } = await browser.authorize(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state }), {
        ...user,
        consent: 'allow',
      });
      const tokens = await client.authorizationCodeGrant(config, callback, { expectedState: state });
      return { idToken: tokens.id_token!, claims: tokens.claims()! };
    }

    async function logout(config: client.Configuration, browser: Browser, idToken: string) {
      const page = await browser.get(client.buildEndSessionUrl(config, { id_token_hint: idToken }));
      expect(page.status).toBe(200);
    }

    const deliveryOf = (clientId: string) => events.filter((e) => e.type.startsWith('backchannel_logout.') && e.data.clientId === clientId);

    it('the session\'s clients with a backchannel_logout_uri get a signed logout token; one without, and a client of another session, get nothing', async () => {
      const withUri = await register({ backchannel_logout_uri: `${receiver.url}/rp-a`, backchannel_logout_session_required: true });
      const withoutUri = await register({});
      const otherSession = await register({ backchannel_logout_uri: `${receiver.url}/rp-c` });
      const browser = new Browser();
      const { idToken, claims } = await signIn(withUri, browser);
      await signIn(withoutUri, browser);
      await signIn(otherSession, new Browser());

      await logout(withUri, browser, idToken);

      const [received] = await until('the logout token at rp-a', () => (receiver.at('/rp-a').length > 0 ? receiver.at('/rp-a') : undefined));
      expect(received!.contentType).toBe('application/x-www-form-urlencoded');
      const token = received!.form.get('logout_token')!;
      const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(`${idp.issuer}/jwks`)), {
        issuer: idp.issuer,
        audience: withUri.clientMetadata().client_id,
        typ: 'logout+jwt',
        algorithms: ['RS256'],
      });
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload).toMatchObject({
        sub: claims.sub,
        sid: claims.sid,
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
        jti: expect.any(String),
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect(payload.nonce).toBeUndefined();
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(120);

      await until('delivered for rp-a', async () => (await readLog(), deliveryOf(withUri.clientMetadata().client_id).some((e) => e.type === 'backchannel_logout.delivered') || undefined));
      expect(deliveryOf(withUri.clientMetadata().client_id).map((e) => e.type)).toEqual(['backchannel_logout.attempt_started', 'backchannel_logout.delivered']);
      expect(events.filter((e) => e.type === 'session.ended')).toHaveLength(1);
      // Nothing for the client without a URI, nothing for the client of the other session.
      expect(deliveryOf(withoutUri.clientMetadata().client_id)).toEqual([]);
      expect(deliveryOf(otherSession.clientMetadata().client_id)).toEqual([]);
      expect(receiver.at('/rp-c')).toEqual([]);
      expect(receiver.at('/rp-a')).toHaveLength(1);
    });

    // Declared only where a second sender can run (the embedded server is one process).
    if (replicas) it('two senders (token-issuer replicas) following the same log: the logout is POSTed once, claimed once', async () => {
      const second = await idp.startSecondSender!();
      try {
        const rp = await register({ backchannel_logout_uri: `${receiver.url}/rp-two-senders` });
        const clientId = rp.clientMetadata().client_id;
        const browser = new Browser();
        const { idToken } = await signIn(rp, browser);
        await logout(rp, browser, idToken);
        await until('delivered', async () => (await readLog(), deliveryOf(clientId).some((e) => e.type === 'backchannel_logout.delivered') || undefined));
        // Long enough for the other sender to see the claim (it waits for its outcome or expiry).
        await new Promise((r) => setTimeout(r, 2000));
        await readLog();
        expect(deliveryOf(clientId).map((e) => e.type)).toEqual(['backchannel_logout.attempt_started', 'backchannel_logout.delivered']);
        expect(receiver.at('/rp-two-senders')).toHaveLength(1);
      } finally {
        await second.stop();
      }
    }, 90_000);

    it('a receiver that fails, then the sender stopped mid-delivery and started again: delivered after the restart, every attempt in the log', async () => {
      receiver.status.set('/rp-flaky', 500);
      const flaky = await register({ backchannel_logout_uri: `${receiver.url}/rp-flaky` });
      const clientId = flaky.clientMetadata().client_id;
      const browser = new Browser();
      const { idToken, claims } = await signIn(flaky, browser);

      await logout(flaky, browser, idToken);
      await until('two attempts refused by the receiver', async () => (await readLog(), deliveryOf(clientId).filter((e) => e.type === 'backchannel_logout.failed' && e.data.status === 500).length >= 2 || undefined));

      await idp.restartSender();
      receiver.status.set('/rp-flaky', 200);

      await until('delivered after the restart', async () => (await readLog(), deliveryOf(clientId).some((e) => e.type === 'backchannel_logout.delivered') || undefined), 60_000).catch(
        (error: Error) => {
          const lines = idp.logs().split('\n').filter((line) => /back-channel|backchannel/i.test(line));
          throw new Error(`${error.message}\nlog: ${JSON.stringify(deliveryOf(clientId))}\n${lines.slice(-30).join('\n')}`);
        },
      );
      const types = deliveryOf(clientId).map((e) => e.type);
      // Each attempt is claimed, then failed (or lost with the stopped process), then one delivered.
      expect(types.filter((t) => t === 'backchannel_logout.failed').length).toBeGreaterThanOrEqual(2);
      expect(types.at(-1)).toBe('backchannel_logout.delivered');
      expect(types.at(-2)).toBe('backchannel_logout.attempt_started');
      const attempts = deliveryOf(clientId).filter((e) => e.type === 'backchannel_logout.attempt_started').map((e) => e.data.attempt);
      expect(attempts).toEqual(attempts.map((_, i) => i + 1));
      const failures = deliveryOf(clientId).filter((e) => e.type === 'backchannel_logout.failed');
      // The receiver's 500s; on a loaded machine an attempt may also run past its deadline (no status, an error).
      expect(failures.filter((e) => e.data.status === 500 && e.data.error === null).length).toBeGreaterThanOrEqual(2);
      for (const failed of failures) {
        expect(failed.data.nextAttemptAt).toEqual(expect.any(String));
        expect(failed.data.status === 500 ? failed.data.error === null : typeof failed.data.error === 'string').toBe(true);
      }
      expect(types).not.toContain('backchannel_logout.abandoned');
      const last = receiver.at('/rp-flaky').at(-1)!;
      expect(decodeJwt(last.form.get('logout_token')!)).toMatchObject({ sub: claims.sub, sid: claims.sid, aud: clientId });
      // No logout token in any log line.
      for (const { form } of receiver.received) expect(idp.logs()).not.toContain(form.get('logout_token'));
      // Delivered once: nothing more arrives.
      const count = receiver.at('/rp-flaky').length;
      await new Promise((r) => setTimeout(r, 1500));
      expect(receiver.at('/rp-flaky')).toHaveLength(count);
    }, 120_000);
  });
}
