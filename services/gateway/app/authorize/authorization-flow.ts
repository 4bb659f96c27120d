import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../../../contracts/events/metadata.js';
import { CheckConsent, GrantConsent, Login, ResolveSession, type SessionView } from '../../../../contracts/messages/authn.js';
import { GetClient, type ClientView } from '../../../../contracts/messages/client-registry.js';
import { IssueCode } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { call } from '../../../../infra/bus/typed.js';
import type { GatewayOptions } from '../gateway.options.js';
import {
  authorizationResponseUri,
  matchRedirectUri,
  requestedClientId,
  validateAuthorizationRequest,
  type AuthorizationRequest,
  type RawParams,
} from './authorization-request.js';

/** What the authorization endpoint shows or does next; the HTTP adapter renders it. */
export type AuthorizationOutcome =
  | { kind: 'redirect'; uri: string }
  | { kind: 'login'; request: AuthorizationRequest; client: ClientView; failed?: boolean }
  | { kind: 'consent'; request: AuthorizationRequest; client: ClientView; session: SessionView }
  /** An error that must not be redirected (unknown client, bad redirect URI): an error page. */
  | { kind: 'error_page'; error: OAuthError };

/**
 * The authorization endpoint's steps (RFC 6749 §4.1.1-4.1.2, OIDC Core §3.1.2): validate the
 * request, authenticate the user (session or login form), obtain consent, issue the code.
 */
export class AuthorizationFlow {
  constructor(private readonly options: GatewayOptions) {}

  private call: typeof call = (bus, contract, request, opts) =>
    call(bus, contract, request, { timeoutMs: this.options.requestTimeoutMs, ...opts });

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
    const state = typeof params.state === 'string' ? params.state : undefined;
    try {
      const request = validateAuthorizationRequest(params, client, redirectUri, randomBytes(16).toString('base64url'));
      return await this.afterValidation(ctx, request, client, sessionToken);
    } catch (error) {
      if (error instanceof OAuthError && error.mayRedirect) return this.errorRedirect(redirectUri, state, error);
      throw error;
    }
  }

  /** The login form was posted for the pending request. */
  async login(
    ctx: RequestContext,
    request: AuthorizationRequest,
    credentials: { username: string; password: string },
  ): Promise<{ outcome: AuthorizationOutcome; sessionToken?: string; sessionExpiresAt?: string }> {
    const client = await this.client(ctx, request);
    const result = await this.call(this.options.bus, Login, { ctx, ...credentials, clientId: client.clientId });
    if (!result.authenticated) return { outcome: { kind: 'login', request, client, failed: true } };
    if (!result.session) throw new Error('authn answered a login form without the session it starts by default');
    const outcome = await this.afterLogin(ctx, request, client, result.session);
    return { outcome, sessionToken: result.sessionToken, sessionExpiresAt: result.expiresAt };
  }

  /** The consent form was posted for the pending request. */
  async consent(
    ctx: RequestContext,
    request: AuthorizationRequest,
    sessionToken: string | undefined,
    approved: boolean,
  ): Promise<AuthorizationOutcome> {
    const client = await this.client(ctx, request);
    const session = await this.session(ctx, sessionToken);
    if (!session) return { kind: 'login', request, client };
    if (!approved) {
      return this.errorRedirect(request.redirectUri, request.state, new OAuthError('access_denied', 'the user denied the request'));
    }
    const scopes = request.scope.split(' ');
    await this.call(this.options.bus, GrantConsent, { ctx: userCtx(ctx, session), sub: session.sub, clientId: client.clientId, scopes });
    return this.issueCode(ctx, request, session);
  }

  errorRedirect(redirectUri: string, state: string | undefined, error: OAuthError): AuthorizationOutcome {
    return {
      kind: 'redirect',
      uri: authorizationResponseUri(redirectUri, this.options.issuer, {
        error: error.code,
        error_description: error.description,
        state,
      }),
    };
  }

  private async afterValidation(
    ctx: RequestContext,
    request: AuthorizationRequest,
    client: ClientView,
    sessionToken: string | undefined,
  ): Promise<AuthorizationOutcome> {
    const found = request.prompt?.includes('login') ? null : await this.session(ctx, sessionToken);
    // OIDC Core §3.1.2.1: an authentication older than max_age must be done again.
    const tooOld = found && request.maxAge !== undefined && Date.now() / 1000 - found.authTime > request.maxAge;
    const session = tooOld ? null : found;
    if (!session) {
      if (request.prompt?.includes('none')) throw new OAuthError('login_required', 'the user must log in');
      return { kind: 'login', request, client };
    }
    return this.afterLogin(ctx, request, client, session);
  }

  private async afterLogin(
    ctx: RequestContext,
    request: AuthorizationRequest,
    client: ClientView,
    session: SessionView,
  ): Promise<AuthorizationOutcome> {
    const { granted } = await this.call(this.options.bus, CheckConsent, {
      ctx,
      sub: session.sub,
      clientId: client.clientId,
      scopes: request.scope.split(' '),
    });
    if (granted && !request.prompt?.includes('consent')) return this.issueCode(ctx, request, session);
    if (request.prompt?.includes('none')) {
      return this.errorRedirect(request.redirectUri, request.state, new OAuthError('consent_required', 'consent is required'));
    }
    return { kind: 'consent', request, client, session };
  }

  private async issueCode(ctx: RequestContext, request: AuthorizationRequest, session: SessionView): Promise<AuthorizationOutcome> {
    const { code } = await this.call(this.options.bus, IssueCode, {
      ctx: userCtx(ctx, session),
      clientId: request.clientId,
      session,
      redirectUri: request.redirectUri,
      scope: request.scope,
      ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
      ...(request.codeChallenge !== undefined ? { codeChallenge: request.codeChallenge, codeChallengeMethod: 'S256' as const } : {}),
    });
    return {
      kind: 'redirect',
      uri: authorizationResponseUri(request.redirectUri, this.options.issuer, { code, state: request.state }),
    };
  }

  private async client(ctx: RequestContext, request: AuthorizationRequest): Promise<ClientView> {
    const { client } = await this.call(this.options.bus, GetClient, { ctx, clientId: request.clientId });
    // The client vanished or changed its redirect URIs since the request started: never redirect then.
    if (!client) throw new OAuthError('invalid_request', 'the client is no longer valid', { mayRedirect: false });
    matchRedirectUri({ redirect_uri: request.redirectUri }, client);
    return client;
  }

  private async session(ctx: RequestContext, sessionToken: string | undefined): Promise<SessionView | null> {
    if (!sessionToken) return null;
    return (await this.call(this.options.bus, ResolveSession, { ctx, sessionToken })).session;
  }
}

const userCtx = (ctx: RequestContext, session: SessionView): RequestContext => ({
  ...ctx,
  actor: { kind: 'user', id: session.sub },
});
