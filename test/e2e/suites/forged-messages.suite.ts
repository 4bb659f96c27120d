import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import { EndSession, Login } from '../../../contracts/messages/authn.js';
import { RegisterClient, type PresentedClientAuthentication } from '../../../contracts/messages/client-registry.js';
import type { RequestOf } from '../../../contracts/messages/define.js';
import { GrantTokens, IntrospectToken, IssueAuthorization, RevokeToken } from '../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../contracts/oauth-error.js';
import type { Bus } from '../../../infra/bus/port.js';
import { call } from '../../../infra/bus/typed.js';
import type { LogWatch } from '../../support/log-watch.js';

/**
 * Issue 10 point 3: no service grants on the word of a message alone what it could verify itself.
 * These messages are sent straight onto the bus, as a compromised or buggy gateway could send
 * them: the token-issuer resolves the session with authn and has client-registry authenticate
 * the client (or look it up) itself, so a made-up session, an ended one, a mismatched client or
 * redirect URI, an unregistered response type, or a wrong client secret is refused, and the log
 * gains nothing. One suite, run by both topologies.
 */
export interface ForgeryTarget {
  /** A connection to the deployment's bus that speaks as the gateway does. */
  bus: Bus;
  watchLog(): Promise<LogWatch>;
  /** A registered user. */
  user: { username: string; password: string };
  /** Every log line the deployment wrote, at its most verbose. */
  logs(): string;
  stop(): Promise<void>;
}

const REDIRECT_URI = 'https://rp.example.test/forged-cb';
const OTHER_REDIRECT_URI = 'https://other.example.test/cb';

const ctx = (actor: RequestContext['actor'] = { kind: 'system', id: 'gateway' }): RequestContext => ({
  tenant: 'default',
  correlationId: randomUUID(),
  causationId: null,
  actor,
});

/** Every secret the suite presents, so that none may be found in a log line afterwards. */
const presentedSecrets: string[] = [];
const madeUpSecret = () => {
  const secret = randomBytes(32).toString('base64url');
  presentedSecrets.push(secret);
  return secret;
};

/** The OAuth error a call was answered with (fails the test if it succeeded). */
async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value)}`);
  if (!(outcome.error instanceof OAuthError)) throw outcome.error;
  return outcome.error;
}

export function describeForgedMessages(topology: string, start: () => Promise<ForgeryTarget>): void {
  describe(`forged bus messages to the token-issuer (${topology})`, () => {
    let target: ForgeryTarget;
    let log: LogWatch;
    let confidential: { clientId: string; secret: string };
    let other: { clientId: string; secret: string };
    let publicClient: { clientId: string };

    beforeAll(async () => {
      target = await start();
      const register = async (metadata: Record<string, unknown>) => {
        const { client, clientSecret } = await call(target.bus, RegisterClient, { ctx: ctx(), metadata });
        return { clientId: client.clientId, secret: clientSecret ?? '' };
      };
      const confidentialMetadata = {
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile',
      };
      confidential = await register({ ...confidentialMetadata, redirect_uris: [REDIRECT_URI] });
      other = await register({ ...confidentialMetadata, redirect_uris: [OTHER_REDIRECT_URI] });
      presentedSecrets.push(confidential.secret, other.secret, target.user.password);
      publicClient = await register({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', scope: 'openid' });
      log = await target.watchLog();
    }, 120_000);

    afterAll(async () => {
      await log?.close();
      await target?.stop();
    });

    /** A real login over the bus, as the gateway does for the login form: the session and its cookie value. */
    async function signIn() {
      const result = await call(target.bus, Login, { ctx: ctx(), ...target.user, clientId: confidential.clientId, source: '192.0.2.10' });
      if (!result.authenticated || !result.session) throw new Error('the test user could not sign in');
      await log.appended(); // the login's own events
      presentedSecrets.push(result.sessionToken);
      return { session: result.session, sessionToken: result.sessionToken };
    }

    const authorization = (over: Partial<RequestOf<typeof IssueAuthorization>> & { sessionToken: string }): RequestOf<typeof IssueAuthorization> => ({
      ctx: ctx({ kind: 'user', id: 'whoever-the-gateway-says' }),
      grantId: randomUUID(),
      clientId: confidential.clientId,
      redirectUri: REDIRECT_URI,
      responseType: 'code',
      scope: 'openid profile',
      ...over,
    });

    const issue = (request: RequestOf<typeof IssueAuthorization>) => call(target.bus, IssueAuthorization, request);

    async function refusedWithNothingAppended(promise: Promise<unknown>, code: string, mayRedirect?: boolean): Promise<void> {
      const error = await refusal(promise);
      expect(error.code).toBe(code);
      if (mayRedirect !== undefined) expect(error.mayRedirect).toBe(mayRedirect);
      expect(await log.appended()).toEqual([]);
    }

    describe('issue_authorization: the user is whoever authn says holds the session cookie', () => {
      it('a made-up session token is refused (login_required) and appends nothing', async () => {
        await refusedWithNothingAppended(issue(authorization({ sessionToken: `${randomUUID()}.${madeUpSecret()}` })), 'login_required');
        await refusedWithNothingAppended(issue(authorization({ sessionToken: 'not-a-session' })), 'login_required');
      });

      it("another user's session id with a secret the forger made up is refused, and appends nothing", async () => {
        const { session } = await signIn();
        await refusedWithNothingAppended(issue(authorization({ sessionToken: `${session.sessionId}.${madeUpSecret()}` })), 'login_required');
      });

      it('an ended session is refused, and appends nothing', async () => {
        const { sessionToken } = await signIn();
        const ended = await call(target.bus, EndSession, { ctx: ctx(), sessionToken, reason: 'rp_initiated_logout', clientId: null });
        expect(ended.ended).toBe(true);
        await log.appended(); // session.ended
        await refusedWithNothingAppended(issue(authorization({ sessionToken })), 'login_required');
      });

      it('the grant is for the session\'s user, whatever user the message claims to act for', async () => {
        const { session, sessionToken } = await signIn();
        const issued = await issue(authorization({ sessionToken, ctx: ctx({ kind: 'user', id: 'victim-sub' }) }));
        expect(issued.code).toEqual(expect.any(String));
        const events = await log.appendedEvents();
        expect(events.map((e) => e.type)).toEqual(['authorization_code.issued']);
        expect(events[0]!.data).toMatchObject({ sub: session.sub, sessionId: session.sessionId, clientId: confidential.clientId });
      });
    });

    describe("issue_authorization: the request must fit the client's registration", () => {
      let sessionToken: string;
      beforeAll(async () => {
        ({ sessionToken } = await signIn());
      });

      it('an unknown client is refused, never to be redirected to', async () => {
        await refusedWithNothingAppended(issue(authorization({ sessionToken, clientId: `made-up-${randomUUID()}` })), 'invalid_request', false);
      });

      it("another client's redirect URI (a mismatched client) is refused, never to be redirected to", async () => {
        await refusedWithNothingAppended(issue(authorization({ sessionToken, redirectUri: OTHER_REDIRECT_URI })), 'invalid_request', false);
        await refusedWithNothingAppended(issue(authorization({ sessionToken, clientId: other.clientId })), 'invalid_request', false);
        await refusedWithNothingAppended(issue(authorization({ sessionToken, redirectUri: `${REDIRECT_URI}/more` })), 'invalid_request', false);
      });

      it('a response type the client did not register is refused (unauthorized_client)', async () => {
        await refusedWithNothingAppended(issue(authorization({ sessionToken, responseType: 'code id_token', nonce: 'n-1' })), 'unauthorized_client');
        await refusedWithNothingAppended(issue(authorization({ sessionToken, responseType: 'id_token token', nonce: 'n-2' })), 'unauthorized_client');
      });

      it('a scope the client did not register is refused (invalid_scope)', async () => {
        await refusedWithNothingAppended(issue(authorization({ sessionToken, scope: 'openid admin' })), 'invalid_scope');
      });

      it("a public client's code without PKCE is refused", async () => {
        await refusedWithNothingAppended(issue(authorization({ sessionToken, clientId: publicClient.clientId, scope: 'openid' })), 'invalid_request');
      });
    });

    describe('grant_tokens, introspect_token, revoke_token: the client is authenticated by client-registry', () => {
      let code: string;
      beforeAll(async () => {
        const { sessionToken } = await signIn();
        code = (await issue(authorization({ sessionToken }))).code!;
        await log.appended();
      });

      const basic = (clientId: string, secret: string): PresentedClientAuthentication => ({ clientId, method: 'client_secret_basic', clientSecret: secret });
      const redeem = (client: PresentedClientAuthentication) =>
        call(target.bus, GrantTokens, {
          ctx: ctx({ kind: 'client', id: confidential.clientId }),
          client,
          grant: { grantType: 'authorization_code', code, redirectUri: REDIRECT_URI },
        });

      it('a made-up client id, a wrong secret, no secret or the wrong method: invalid_client, nothing appended', async () => {
        await refusedWithNothingAppended(redeem(basic(`made-up-${randomUUID()}`, madeUpSecret())), 'invalid_client');
        await refusedWithNothingAppended(redeem(basic(confidential.clientId, madeUpSecret())), 'invalid_client');
        await refusedWithNothingAppended(redeem({ clientId: confidential.clientId, method: 'none', clientSecret: null }), 'invalid_client');
        await refusedWithNothingAppended(
          redeem({ clientId: confidential.clientId, method: 'client_secret_post', clientSecret: confidential.secret }),
          'invalid_client',
        );
      });

      it("another client, properly authenticated, presenting this client's code: invalid_grant, nothing appended", async () => {
        await refusedWithNothingAppended(redeem(basic(other.clientId, other.secret)), 'invalid_grant');
      });

      it('the unauthenticated attempts burned nothing: the client itself still redeems the code', async () => {
        const tokens = await redeem(basic(confidential.clientId, confidential.secret));
        expect(tokens.access_token).toEqual(expect.any(String));
        expect(await log.appended()).toContain('authorization_code.redeemed');

        const introspect = (client: PresentedClientAuthentication) =>
          call(target.bus, IntrospectToken, { ctx: ctx(), caller: client, token: tokens.access_token });
        const revoke = (client: PresentedClientAuthentication) => call(target.bus, RevokeToken, { ctx: ctx(), caller: client, token: tokens.access_token });

        // Introspection with a wrong secret, or with none at all, tells nothing.
        await refusedWithNothingAppended(introspect(basic(confidential.clientId, madeUpSecret())), 'invalid_client');
        await refusedWithNothingAppended(introspect({ clientId: confidential.clientId, method: 'none', clientSecret: null }), 'invalid_client');
        // Revocation with a wrong secret revokes nothing.
        await refusedWithNothingAppended(revoke(basic(confidential.clientId, madeUpSecret())), 'invalid_client');
        await refusedWithNothingAppended(revoke(basic(`made-up-${randomUUID()}`, madeUpSecret())), 'invalid_client');
        expect((await introspect(basic(confidential.clientId, confidential.secret))).response.active).toBe(true);

        // The client itself revokes it.
        await revoke(basic(confidential.clientId, confidential.secret));
        expect(await log.appended()).toEqual(['grant.revoked']);
        expect((await introspect(basic(confidential.clientId, confidential.secret))).response.active).toBe(false);
      });
    });

    it('no client secret or session token presented to the token-issuer appears in any log line', () => {
      const logs = target.logs();
      expect(logs.length).toBeGreaterThan(0);
      expect(presentedSecrets.length).toBeGreaterThan(10);
      for (const secret of presentedSecrets) expect(logs.includes(secret)).toBe(false);
    });
  });
}
