import { createHash } from 'node:crypto';
import { basicAuth, HttpClient, type HttpResponse } from '../../bench/http.js';
import { Browser } from '../../support/browser.js';
import type { IdpUnderTest } from '../../support/idp-under-test.js';
import type { LoggedEvent } from '../../support/log-watch.js';

/**
 * Races at the token endpoint (issue 10), over real HTTP: 200 requests in flight at once, each on
 * its own connection, spread over every gateway of the deployment, all presenting the same
 * authorization code or the same refresh token. Exactly one may win; every other request is an
 * RFC 6749 §5.2 `invalid_grant` (400, never a 5xx); and the log, read back through the store
 * adapter, holds exactly one redemption or rotation. The unit-level race
 * (test/integration/refresh-token-race.test.ts) covers the stores; this covers the whole path:
 * HTTP, the gateways, the bus, several token-issuers, the log.
 * Runners: races.<topology>.e2e.test.ts.
 */
export const RACERS = 200;

const REDIRECT_URI = 'https://rp.example.test/race-cb';

export interface RaceDeployment {
  server: IdpUnderTest;
  /** Base URLs of every gateway (one for the embedded process), the requests go round-robin. */
  gateways: string[];
}

interface RegisteredClient {
  client_id: string;
  client_secret?: string;
}

/** Outcome of one racer: `200`, `400 invalid_grant`, or whatever else it was (a 5xx, a network error). */
function outcomeOf(settled: PromiseSettledResult<HttpResponse>): string {
  if (settled.status === 'rejected') return `network error: ${String((settled.reason as Error)?.message ?? settled.reason)}`;
  const response = settled.value;
  if (response.status === 200) return '200';
  let error = '(no JSON error)';
  try {
    error = String((JSON.parse(response.body) as { error?: unknown }).error);
  } catch {
    // The outcome then says it was not JSON.
  }
  return `${response.status} ${error}`;
}

function tally(outcomes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}

const count = (events: LoggedEvent[], type: string) => events.filter((event) => event.type === type).length;

export function describeTokenEndpointRaces(deployment: () => RaceDeployment, user: { username: string; password: string }): void {
  describe(`${RACERS} concurrent requests with one grant (issue 10 races)`, () => {
    let http: HttpClient;
    beforeAll(() => {
      // One connection per racer: no request waits for another's socket.
      http = new HttpClient(RACERS);
    });
    afterAll(() => http.close());

    const issuer = () => deployment().server.issuer;
    const gateway = (i: number) => deployment().gateways[i % deployment().gateways.length]!;

    async function register(metadata: Record<string, unknown>): Promise<RegisteredClient> {
      const response = await http.request(`${issuer()}/register`, { json: { redirect_uris: [REDIRECT_URI], ...metadata } });
      expect(response.status).toBe(201);
      return JSON.parse(response.body) as RegisteredClient;
    }

    /** A code for the client, through the login and consent pages, with a PKCE challenge. */
    async function authorize(client: RegisteredClient, scope: string, verifier: string): Promise<string> {
      const url = new URL(`${issuer()}/authorize`);
      url.search = new URLSearchParams({
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope,
        state: 'race',
        nonce: 'race-nonce',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      const { callback } = await new Browser().authorize(url, { ...user, consent: 'allow' });
      const code = callback.searchParams.get('code');
      if (!code) throw new Error(`no code in ${callback.href}`);
      return code;
    }

    /** Fires every request at once (round-robin over the gateways) and waits for all of them. */
    async function race(form: Record<string, string>, headers: Record<string, string> = {}) {
      const settled = await Promise.allSettled(
        Array.from({ length: RACERS }, (_, i) => http.request(`${gateway(i)}/token`, { form, headers })),
      );
      const winners = settled.flatMap((s) => (s.status === 'fulfilled' && s.value.status === 200 ? [s.value] : []));
      return { outcomes: tally(settled.map(outcomeOf)), winner: winners[0], losers: settled.filter((s) => !(s.status === 'fulfilled' && s.value.status === 200)) };
    }

    it(`one authorization code (public client, PKCE) redeemed by ${RACERS} requests at once: one token response, ${RACERS - 1} invalid_grant, one redemption in the log`, async () => {
      const client = await register({ token_endpoint_auth_method: 'none', scope: 'openid profile' });
      const verifier = 'race-verifier-'.padEnd(64, 'v');
      const code = await authorize(client, 'openid profile', verifier);
      const grantId = code.split('.')[0]!;
      const log = await deployment().server.watchLog!();
      try {
        const { outcomes, winner, losers } = await race({
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          client_id: client.client_id,
          code_verifier: verifier,
        });

        expect(outcomes).toEqual({ '200': 1, '400 invalid_grant': RACERS - 1 });
        expect(JSON.parse(winner!.body)).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), id_token: expect.any(String) });
        for (const loser of losers) {
          const response = (loser as PromiseFulfilledResult<HttpResponse>).value;
          expect(response.headers['content-type']).toMatch(/^application\/json/);
          expect(response.headers['cache-control']).toBe('no-store');
        }

        const ofGrant = (await log.appendedEvents()).filter((event) => event.data.grantId === grantId);
        expect(count(ofGrant, 'authorization_code.redeemed')).toBe(1);
        expect(count(ofGrant, 'tokens.issued')).toBe(1);
        // The other presentations were replays (RFC 6749 §4.1.2): detected once, the grant revoked
        // once, and nothing appended after that.
        expect(ofGrant.map((event) => event.type)).toEqual(['authorization_code.redeemed', 'tokens.issued', 'authorization_code.replay_detected', 'grant.revoked']);
        // So the winner's access token, issued for a code that was also replayed, is dead too.
        const accessToken = (JSON.parse(winner!.body) as { access_token: string }).access_token;
        const userinfo = await http.request(`${issuer()}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
        expect(userinfo.status).toBe(401);
      } finally {
        await log.close();
      }
    }, 180_000);

    it(`one refresh token (confidential client, no grace window) used by ${RACERS} requests at once: one rotation, ${RACERS - 1} invalid_grant, the lineage revoked once`, async () => {
      const client = await register({
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid offline_access',
        token_endpoint_auth_method: 'client_secret_basic',
        refresh_token_reuse_grace_seconds: 0,
      });
      const authorization = basicAuth(client.client_id, client.client_secret!);
      const verifier = 'race-refresh-verifier-'.padEnd(64, 'r');
      const code = await authorize(client, 'openid offline_access', verifier);
      const redeemed = await http.request(`${issuer()}/token`, {
        form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier },
        headers: { authorization },
      });
      expect(redeemed.status).toBe(200);
      const refreshToken = (JSON.parse(redeemed.body) as { refresh_token: string }).refresh_token;
      const grantId = refreshToken.split('.')[0]!;
      expect(refreshToken.split('.')[1]).toBe('0');
      const log = await deployment().server.watchLog!();
      try {
        const { outcomes, winner } = await race({ grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization });

        expect(outcomes).toEqual({ '200': 1, '400 invalid_grant': RACERS - 1 });
        const successor = JSON.parse(winner!.body) as { refresh_token: string; access_token: string };
        expect(successor.refresh_token.split('.').slice(0, 2)).toEqual([grantId, '1']);

        const ofGrant = (await log.appendedEvents()).filter((event) => event.data.grantId === grantId);
        const rotations = ofGrant.filter((event) => event.type === 'refresh_token.rotated');
        expect(rotations).toHaveLength(1);
        expect(rotations[0]!.data).toMatchObject({ generation: 0, clientId: client.client_id, successor: { generation: 1 } });
        expect(count(ofGrant, 'refresh_token.rotation_repeated')).toBe(0);
        // Every other use was reuse of a rotated token (RFC 9700 §4.14.2): detected once, the
        // lineage revoked once.
        expect(count(ofGrant, 'refresh_token.reuse_detected')).toBe(1);
        expect(ofGrant.filter((event) => event.type === 'grant.revoked').map((event) => event.data.reason)).toEqual(['refresh_token_reuse']);
        expect(ofGrant).toHaveLength(3);
        // The winner's successor belongs to the revoked lineage.
        const next = await http.request(`${issuer()}/token`, {
          form: { grant_type: 'refresh_token', refresh_token: successor.refresh_token },
          headers: { authorization },
        });
        expect(next.status).toBe(400);
        expect(JSON.parse(next.body)).toMatchObject({ error: 'invalid_grant' });
      } finally {
        await log.close();
      }
    }, 180_000);
  });
}
