import { randomUUID } from 'node:crypto';
import { chooseAcr } from '../../../../contracts/acr.js';
import type { RequestContext } from '../../../../contracts/events/metadata.js';
import { CheckConsent, GrantConsent, Login, ResolveSession, UserClaims, type SessionView } from '../../../../contracts/messages/authn.js';
import { GetClient, type ClientView } from '../../../../contracts/messages/client-registry.js';
import { IssueAuthorization, VerifyIdTokenHint } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import type { ResponseMode } from '../../../../contracts/response-types.js';
import { call } from '../../../../infra/bus/typed.js';
import type { GatewayOptions } from '../gateway.options.js';
import { matchRedirectUri, requestedClientId, type AuthorizationRequest, type RawParams } from './authorization-request.js';
import { consentScopes } from './claims-consent.js';
import { errorResponseMode, REQUEST_STEPS, validateAuthorizationRequest } from './request-steps.js';
import { renderAuthorizationResponse, type RenderedResponse } from './response-modes.js';
import { wellFormedSessionToken } from './session-token.js';

/**
 * Every step of the authorization endpoint, in the order they run (RFC 6749 §4.1.1-4.1.2, OIDC
 * Core §3.1.2): who the client is and where it may be answered (errors before that are an error
 * page, never a redirect), the checks of the request (REQUEST_STEPS), then who the user is
 * (a session, or the login form), their consent (a stored one, or the consent form), and the
 * answer, rendered by the request's response mode.
 */
export const AUTHORIZATION_STEPS: readonly string[] = [
  'client',
  'redirect URI',
  ...REQUEST_STEPS.map((step) => step.name),
  'session',
  'consent',
  'issue',
];

/** What the authorization endpoint shows or does next; the HTTP adapter renders it. */
export type AuthorizationOutcome =
  /** The authorization response (success or error) to the client, in the request's response mode. */
  | { kind: 'respond'; response: RenderedResponse }
  | { kind: 'login'; request: AuthorizationRequest; client: ClientView; failed?: boolean }
  | { kind: 'consent'; request: AuthorizationRequest; client: ClientView; session: SessionView; account?: string }
  /** An error that must not be redirected (unknown client, bad redirect URI): an error page. */
  | { kind: 'error_page'; error: OAuthError };

/** Where an authorization response goes: enough of a request to answer it. */
export type ResponseTarget = Pick<AuthorizationRequest, 'redirectUri' | 'responseMode' | 'state'>;

export class AuthorizationFlow {
  constructor(private readonly options: GatewayOptions) {}

  private call: typeof call = (bus, contract, request, opts) =>
    call(bus, contract, request, { timeoutMs: this.options.requestTimeoutMs, ...opts });

  /** GET or POST /authorize: steps "client" to "issue". */
  async start(ctx: RequestContext, params: RawParams, sessionToken: string | undefined): Promise<AuthorizationOutcome> {
    let client: ClientView;
    let redirectUri: string;
    try {
      const clientId = requestedClientId(params);
      const found = await this.call(this.options.bus, GetClient, { ctx, clientId });
      if (!found.client) throw new OAuthError('invalid_request', 'unknown client_id', { mayRedirect: false });
      client = found.client;
      redirectUri = matchRedirectUri(params, client);
    } catch (error) {
      if (error instanceof OAuthError) return { kind: 'error_page', error };
      throw error;
    }
    const target: ResponseTarget = {
      redirectUri,
      responseMode: errorResponseMode(params),
      ...(typeof params.state === 'string' && params.state !== '' ? { state: params.state } : {}),
    };
    try {
      const request = validateAuthorizationRequest(params, client, redirectUri, randomUUID());
      return await this.sessionStep(ctx, request, client, sessionToken);
    } catch (error) {
      if (error instanceof OAuthError && error.mayRedirect) return this.errorResponse(target, error);
      throw error;
    }
  }

  /** The login form was posted for the pending request. */
  async login(
    ctx: RequestContext,
    request: AuthorizationRequest,
    credentials: { username: string; password: string; source: string | null },
  ): Promise<{ outcome: AuthorizationOutcome; sessionToken?: string; sessionExpiresAt?: string }> {
    const client = await this.client(ctx, request);
    const result = await this.call(this.options.bus, Login, { ctx, ...credentials, clientId: client.clientId });
    if (!result.authenticated) return { outcome: { kind: 'login', request, client, failed: true } };
    if (!result.session) throw new Error('authn answered a login form without the session it starts by default');
    if (!isRequiredUser(request, result.session.sub)) {
      // OIDC Core §3.1.2.2: the answer may only be for the user the id_token_hint names.
      const error = new OAuthError('login_required', 'the user who signed in is not the one the request names');
      return { outcome: this.errorResponse(request, error), sessionToken: result.sessionToken, sessionExpiresAt: result.expiresAt };
    }
    // This request's own login: the proof that prompt=login and max_age are met.
    const proven = { ...request, loginSessionId: result.session.sessionId };
    const outcome = await this.consentStep(ctx, proven, client, { ...result.session, token: result.sessionToken });
    return { outcome, sessionToken: result.sessionToken, sessionExpiresAt: result.expiresAt };
  }

  /**
   * The consent form was posted for the pending request. It counts only for the session it was
   * shown to, and only while that session still meets the request's prompt=login and max_age.
   */
  async consent(
    ctx: RequestContext,
    request: AuthorizationRequest,
    sessionToken: string | undefined,
    approved: boolean,
  ): Promise<AuthorizationOutcome> {
    const client = await this.client(ctx, request);
    const session = await this.session(ctx, sessionToken);
    if (!session || sessionToken === undefined || request.sessionId === undefined || session.sessionId !== request.sessionId) {
      return {
        kind: 'error_page',
        error: new OAuthError('invalid_request', 'the consent form does not belong to this browser session; start again', { mayRedirect: false }),
      };
    }
    if (!this.authenticationMeetsRequest(request, session)) return { kind: 'login', request: withoutSession(request), client };
    if (!approved) return this.errorResponse(request, new OAuthError('access_denied', 'the user denied the request'));
    const scopes = consentScopes(request);
    await this.call(this.options.bus, GrantConsent, { ctx: userCtx(ctx, session), sub: session.sub, clientId: client.clientId, scopes });
    return this.issue(ctx, request, { ...session, token: sessionToken });
  }

  errorResponse(target: ResponseTarget, error: OAuthError): AuthorizationOutcome {
    return this.respond(target, target.responseMode, { error: error.code, error_description: error.description });
  }

  /**
   * Step "session": who the user is, if a session proves it well enough for this request. An
   * `id_token_hint` (OIDC Core §3.1.2.1) must be an ID token we issued to this client, and then
   * only a session of the user it names counts.
   */
  private async sessionStep(
    ctx: RequestContext,
    given: AuthorizationRequest,
    client: ClientView,
    sessionToken: string | undefined,
  ): Promise<AuthorizationOutcome> {
    const request = await this.withVerifiedHint(ctx, given);
    const found = await this.session(ctx, sessionToken);
    const session = found && sessionToken !== undefined && this.authenticationMeetsRequest(request, found) ? { ...found, token: sessionToken } : null;
    if (!session) {
      if (request.prompt?.includes('none')) throw new OAuthError('login_required', 'the user must log in');
      return { kind: 'login', request, client };
    }
    return this.consentStep(ctx, request, client, session);
  }

  /**
   * OIDC Core §3.1.2.1: `prompt=login` wants an authentication made for this request, and
   * `max_age` one no older than that many seconds. Only the login form of this very request
   * (`loginSessionId`) meets prompt=login; an older session meets max_age while young enough.
   */
  private authenticationMeetsRequest(request: AuthorizationRequest, session: SessionView): boolean {
    if (!isRequiredUser(request, session.sub)) return false;
    if (request.loginSessionId === session.sessionId) return true;
    if (request.prompt?.includes('login')) return false;
    if (request.maxAge !== undefined && Date.now() / 1000 - session.authTime > request.maxAge) return false;
    return true;
  }

  private async withVerifiedHint(ctx: RequestContext, request: AuthorizationRequest): Promise<AuthorizationRequest> {
    if (request.idTokenHint === undefined) return request;
    const { idTokenHint, ...rest } = request;
    const hint = await this.call(this.options.bus, VerifyIdTokenHint, { ctx, idTokenHint });
    if (!hint.valid || hint.clientId !== request.clientId) {
      throw new OAuthError('invalid_request', 'id_token_hint is not an ID token this issuer gave this client');
    }
    return { ...rest, idTokenHintSub: hint.sub };
  }

  /** Step "consent": a stored consent covering the scopes, or the consent form. */
  private async consentStep(
    ctx: RequestContext,
    request: AuthorizationRequest,
    client: ClientView,
    session: HeldSession,
  ): Promise<AuthorizationOutcome> {
    const { granted } = await this.call(this.options.bus, CheckConsent, {
      ctx,
      sub: session.sub,
      clientId: client.clientId,
      scopes: consentScopes(request),
    });
    if (granted && !request.prompt?.includes('consent')) return this.issue(ctx, request, session);
    if (request.prompt?.includes('none')) return this.errorResponse(request, new OAuthError('consent_required', 'consent is required'));
    const { token: _token, ...shown } = session;
    return { kind: 'consent', request: { ...request, sessionId: session.sessionId }, client, session: shown, ...(await this.accountName(ctx, session)) };
  }

  /** The signed-in user's name for the consent page, if they have one (a forgotten user has none). */
  private async accountName(ctx: RequestContext, session: SessionView): Promise<{ account?: string }> {
    const { claims } = await this.call(this.options.bus, UserClaims, { ctx, sub: session.sub, scopes: ['profile'] });
    const name = claims?.preferred_username;
    return typeof name === 'string' ? { account: name } : {};
  }

  /**
   * Step "issue": the grant starts, and the response goes back in the request's response mode.
   * The token-issuer is given the session's cookie, not what the gateway knows of the session:
   * it asks authn who holds it, and client-registry whether the request fits the client.
   */
  private async issue(ctx: RequestContext, request: AuthorizationRequest, session: HeldSession): Promise<AuthorizationOutcome> {
    // OIDC Core §5.5.1.1: an essential acr the authentication cannot meet is a failed authentication.
    if ('unmet' in chooseAcr(session.acr, request.acrValues, request.claims?.id_token?.acr ?? undefined)) {
      return this.errorResponse(request, new OAuthError('access_denied', 'the authentication does not meet the essential acr requested'));
    }
    const issued = await this.call(this.options.bus, IssueAuthorization, {
      ctx: userCtx(ctx, session),
      grantId: request.rid,
      clientId: request.clientId,
      sessionToken: session.token,
      redirectUri: request.redirectUri,
      responseType: request.responseType,
      scope: request.scope,
      ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
      ...(request.codeChallenge !== undefined ? { codeChallenge: request.codeChallenge, codeChallengeMethod: 'S256' as const } : {}),
      ...(request.claims !== undefined ? { claims: request.claims } : {}),
      ...(request.claimsLocales !== undefined ? { claimsLocales: request.claimsLocales } : {}),
    });
    return this.respond(request, request.responseMode, {
      code: issued.code,
      access_token: issued.access_token,
      token_type: issued.token_type,
      expires_in: issued.expires_in === undefined ? undefined : String(issued.expires_in),
      id_token: issued.id_token,
    });
  }

  private respond(target: ResponseTarget, mode: ResponseMode, params: Record<string, string | undefined>): AuthorizationOutcome {
    return {
      kind: 'respond',
      response: renderAuthorizationResponse(mode, target.redirectUri, this.options.issuer, { ...params, state: target.state }),
    };
  }

  private async client(ctx: RequestContext, request: AuthorizationRequest): Promise<ClientView> {
    const { client } = await this.call(this.options.bus, GetClient, { ctx, clientId: request.clientId });
    // The client vanished or changed its redirect URIs since the request started: never redirect then.
    if (!client) throw new OAuthError('invalid_request', 'the client is no longer valid', { mayRedirect: false });
    matchRedirectUri({ redirect_uri: request.redirectUri }, client);
    return client;
  }

  /** The session of the cookie; a cookie that cannot be one (oversized, malformed) is no session. */
  private async session(ctx: RequestContext, sessionToken: string | undefined): Promise<SessionView | null> {
    if (sessionToken === undefined || !wellFormedSessionToken(sessionToken)) return null;
    return (await this.call(this.options.bus, ResolveSession, { ctx, sessionToken })).session;
  }
}

/** A session and the cookie value that proves it, which the token-issuer resolves again itself. */
type HeldSession = SessionView & { token: string };

/** The user an `id_token_hint` or a `claims` request for a `sub` value names, if any, is this one. */
const isRequiredUser = (request: AuthorizationRequest, sub: string): boolean =>
  (request.idTokenHintSub === undefined || request.idTokenHintSub === sub) && (request.requiredSub === undefined || request.requiredSub === sub);

const withoutSession = (request: AuthorizationRequest): AuthorizationRequest => {
  const { sessionId: _sessionId, ...rest } = request;
  return rest;
};

const userCtx = (ctx: RequestContext, session: SessionView): RequestContext => ({
  ...ctx,
  actor: { kind: 'user', id: session.sub },
});
