import type { IdpUnderTest } from '../../support/idp-under-test.js';
import type { LogWatch } from '../../support/log-watch.js';
import { clientAuthenticationCases } from './negative/client-authentication.cases.js';
import { registerFixtures, type Fixtures } from './negative/fixtures.js';
import { grantRequestCases } from './negative/grant-request.cases.js';
import { malformedBodyCases } from './negative/malformed-body.cases.js';
import { basicHeaderOf, runCase, type NegativeCase } from './negative/negative-case.js';
import { tokenLifecycleCases } from './negative/token-lifecycle.cases.js';

/**
 * The negative table of the token endpoints (/token, /revoke, /introspect, and /register's
 * bodies): every case states its request, the exact status, `error` code and headers, and what
 * the log gains, read from the deployment's log itself (nothing, unless the refusal records a
 * fact such as a reused refresh token). Runs against a deployment with IDP_INITIAL_ACCESS_TOKEN,
 * whose fixtures may have the password grant and API scopes.
 */
const TABLE: { section: string; cases: NegativeCase[] }[] = [
  { section: 'client authentication', cases: clientAuthenticationCases },
  { section: 'grant type, scope and resource', cases: grantRequestCases },
  { section: 'tokens in the wrong hands', cases: tokenLifecycleCases },
  { section: 'malformed and oversized bodies', cases: malformedBodyCases },
];

/** What a granted client credentials request appends (one new grant stream). */
const APPENDED_BY_CLIENT_CREDENTIALS = ['client_credentials.granted'];

export function describeTokenEndpointNegatives(
  server: () => IdpUnderTest,
  initialAccessToken: string,
  user: { username: string; password: string },
): void {
  describe('token endpoints: the negative table', () => {
    let fixtures: Fixtures;
    let log: LogWatch;

    beforeAll(async () => {
      fixtures = await registerFixtures(server(), initialAccessToken, user);
      const watchLog = server().watchLog;
      if (!watchLog) throw new Error(`the deployment at ${server().issuer} gives the test no access to its log`);
      log = await watchLog();
    }, 60_000);

    afterAll(async () => {
      await log?.close();
    });

    it('sees in the log what a request appends: the table\'s check fails on an unexpected event', async () => {
      const granted: NegativeCase = {
        name: 'a granted client credentials request',
        send: (fx) =>
          fetch(`${fx.issuer}/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicHeaderOf(fx.machine) },
            body: 'grant_type=client_credentials',
          }),
        expect: { status: 200, body: expect.objectContaining({ token_type: 'Bearer' }) as Record<string, unknown> },
      };
      await expect(runCase(granted, fixtures, log)).rejects.toThrow(/client_credentials\.granted/);
      await runCase({ ...granted, appends: APPENDED_BY_CLIENT_CREDENTIALS }, fixtures, log);
    });

    for (const { section, cases } of TABLE) {
      describe(section, () => {
        for (const negative of cases) {
          it(negative.name, () => runCase(negative, fixtures, log), 30_000);
        }
      });
    }
  });
}
