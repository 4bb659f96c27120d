import type { RequestContext } from '../../../../contracts/events/metadata.js';
import { EndSession, ResolveSession, type SessionView } from '../../../../contracts/messages/authn.js';
import { GetClient, type ClientView } from '../../../../contracts/messages/client-registry.js';
import { VerifyIdTokenHint } from '../../../../contracts/messages/token-issuer.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { call } from '../../../../infra/bus/typed.js';
import { constantTimeEqual, sha256Hex } from '../../../../infra/crypto/secrets.js';
import type { RawParams } from '../authorize/authorization-request.js';
import type { GatewayOptions } from '../gateway.options.js';
import { wellFormedSessionToken } from '../authorize/session-token.js';
import { parseEndSessionParams, postLogoutRedirect } from './end-session-request.js';

/** How long the confirmation page's form stays good. */
export const LOGOUT_CONFIRMATION_TTL_SECONDS = 600;

/** What a logout request asked for once checked: where to go afterwards, which RP asked. */
interface CheckedLogout {
  clientId: string | null;
  /** A post_logout_redirect_uri the client registered (exact match), or null. */
  postLogoutRedirectUri: string | null;
  state: string | null;
  uiLocales: string | null;
}

/** The confirmation form's sealed token: the checked request, bound to the session cookie. */
interface PendingLogout extends CheckedLogout {
  /** SHA-256 of the session cookie the page was shown for: another browser's form is refused. */
  sessionHash: string;
}

export type LogoutOutcome =
  /** Ask the user first (no valid hint for this session): a form carrying `confirmation`. */
  | { kind: 'confirm'; confirmation: string; client: ClientView | null; uiLocales: string | null }
  /** Done: 303 to the RP's registered URI (with its state), or the "signed out" page. */
  | { kind: 'logged_out'; redirectTo: string | null; client: ClientView | null; uiLocales: string | null }
  /** Never redirected: an error page. */
  | { kind: 'error_page'; error: OAuthError; uiLocales: string | null };

const invalid = (description: string) => new OAuthError('invalid_request', description, { mayRedirect: false });

/**
 * The end_session_endpoint (OpenID Connect RP-Initiated Logout 1.0): check the request, then end
 * the browser's session at once when the RP proved it is this session's (an ID token hint of
 * ours whose `sid` is the current session), else after the user confirms on a page. Afterwards
 * the browser goes to the RP's registered post_logout_redirect_uri, or sees a "signed out" page.
 */
export class LogoutFlow {
  constructor(private readonly options: GatewayOptions) {}

  private call: typeof call = (bus, contract, request, opts) =>
    call(bus, contract, request, { timeoutMs: this.options.requestTimeoutMs, ...opts });

  async start(ctx: RequestContext, params: RawParams, sessionToken: string | undefined): Promise<LogoutOutcome> {
    let uiLocales: string | null = null;
    try {
      const request = parseEndSessionParams(params);
      uiLocales = request.uiLocales ?? null;
      // §2: the OP validates the hint: an ID token we issued, expired or not.
      const hint = request.idTokenHint !== undefined ? await this.call(this.options.bus, VerifyIdTokenHint, { ctx, idTokenHint: request.idTokenHint }) : undefined;
      if (hint && !hint.valid) throw invalid('id_token_hint is not an ID token issued by this server');
      const hinted = hint?.valid ? hint : undefined;
      // §2: with both, client_id must be the client the ID token was issued to.
      if (request.clientId !== undefined && hinted && hinted.clientId !== request.clientId) {
        throw invalid('client_id does not match the client of the id_token_hint');
      }
      const clientId = request.clientId ?? hinted?.clientId ?? null;
      const client = clientId !== null ? await this.client(ctx, clientId) : null;
      if (clientId !== null && !client) throw invalid('unknown client_id');
      let postLogoutRedirectUri: string | null = null;
      if (request.postLogoutRedirectUri !== undefined) {
        // §3: only a URI the identified client registered, compared exactly; never an open redirect.
        if (!client) throw invalid('post_logout_redirect_uri needs client_id or id_token_hint to identify the client');
        if (!client.postLogoutRedirectUris.includes(request.postLogoutRedirectUri)) {
          throw invalid('post_logout_redirect_uri is not registered for this client');
        }
        // §3: without an id_token_hint the OP MUST NOT redirect: a registered URI alone is no proof
        // (anyone may register a client openly), so the user sees the signed-out page instead.
        postLogoutRedirectUri = hinted ? request.postLogoutRedirectUri : null;
      }
      const checked: CheckedLogout = { clientId, postLogoutRedirectUri, state: request.state ?? null, uiLocales };

      const session = await this.session(ctx, sessionToken);
      // Nobody is signed in here: nothing to end, nothing to ask.
      if (!session || !sessionToken) return this.done(checked, client);
      // §2: the hint names this very session (and user): the RP's request is the proof.
      if (hinted && hinted.sid === session.sessionId && hinted.sub === session.sub) {
        await this.end(ctx, sessionToken, session, checked);
        return this.done(checked, client);
      }
      const pending: PendingLogout = { ...checked, sessionHash: sha256Hex(sessionToken) };
      const confirmation = await this.options.logoutForms.seal({ ...pending }, LOGOUT_CONFIRMATION_TTL_SECONDS);
      return { kind: 'confirm', confirmation, client, uiLocales };
    } catch (error) {
      if (error instanceof OAuthError && !error.mayRedirect) return { kind: 'error_page', error, uiLocales };
      throw error;
    }
  }

  /**
   * The user confirmed on the page. The form's token must open and belong to this browser's
   * session cookie (a cross-site post, a form of another browser or session, a missing or
   * expired token: refused, nothing ends).
   */
  async confirm(ctx: RequestContext, confirmation: string | undefined, sessionToken: string | undefined): Promise<LogoutOutcome> {
    const pending = confirmation ? await this.options.logoutForms.open<PendingLogout>(confirmation) : null;
    if (!pending) return { kind: 'error_page', error: invalid('the logout confirmation is missing, invalid or expired'), uiLocales: null };
    if (!sessionToken || !constantTimeEqual(sha256Hex(sessionToken), pending.sessionHash)) {
      return { kind: 'error_page', error: invalid('the logout confirmation does not belong to this browser session'), uiLocales: pending.uiLocales };
    }
    // The client may have changed its registration since the page was shown: check again.
    const client = pending.clientId !== null ? await this.client(ctx, pending.clientId) : null;
    const stillRegistered = client !== null && pending.postLogoutRedirectUri !== null && client.postLogoutRedirectUris.includes(pending.postLogoutRedirectUri);
    const checked: CheckedLogout = { ...pending, postLogoutRedirectUri: stillRegistered ? pending.postLogoutRedirectUri : null };
    const session = await this.session(ctx, sessionToken);
    // Already ended (another tab, a double submit): the user is signed out all the same.
    if (session) await this.end(ctx, sessionToken, session, checked);
    return this.done(checked, client);
  }

  private async end(ctx: RequestContext, sessionToken: string, session: SessionView, checked: CheckedLogout): Promise<void> {
    await this.call(this.options.bus, EndSession, {
      ctx: { ...ctx, actor: { kind: 'user', id: session.sub } },
      sessionToken,
      reason: checked.clientId !== null ? 'rp_initiated_logout' : 'user_logout',
      clientId: checked.clientId,
    });
  }

  private done(checked: CheckedLogout, client: ClientView | null): LogoutOutcome {
    const redirectTo = checked.postLogoutRedirectUri !== null ? postLogoutRedirect(checked.postLogoutRedirectUri, checked.state ?? undefined) : null;
    return { kind: 'logged_out', redirectTo, client, uiLocales: checked.uiLocales };
  }

  private async client(ctx: RequestContext, clientId: string): Promise<ClientView | null> {
    return (await this.call(this.options.bus, GetClient, { ctx, clientId })).client;
  }

  private async session(ctx: RequestContext, sessionToken: string | undefined): Promise<SessionView | null> {
    // A cookie no session could have (oversized, malformed) is no session.
    if (!sessionToken || !wellFormedSessionToken(sessionToken)) return null;
    return (await this.call(this.options.bus, ResolveSession, { ctx, sessionToken })).session;
  }
}
