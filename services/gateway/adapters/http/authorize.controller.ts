import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { AuthorizationFlow, type AuthorizationOutcome } from '../../app/authorize/authorization-flow.js';
import type { AuthorizationRequest, RawParams } from '../../app/authorize/authorization-request.js';
import { consentScopes } from '../../app/authorize/claims-consent.js';
import { loginSource } from '../../app/client-address.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { requestContext } from '../../app/request-context.js';
import { consentPage } from '../pages/consent.page.js';
import { errorPage } from '../pages/error.page.js';
import { chooseLocale, type Locale } from '../pages/i18n/locale.js';
import { formPostContentSecurityPolicy, formPostPage } from '../pages/form-post.page.js';
import { loginPage } from '../pages/login.page.js';
import { AUTHZ_COOKIE_TTL_SECONDS, GatewayCookies } from './cookies.js';
import { toOAuthError } from './oauth-error.renderer.js';

const LoginForm = z.object({
  rid: z.string().min(1).max(64),
  username: z.string().max(256),
  password: z.string().max(1024),
});
const ConsentForm = z.object({ rid: z.string().min(1).max(64), decision: z.enum(['allow', 'deny']) });

/** The pending request travels in a cookie: browsers drop a cookie over 4096 bytes. */
const MAX_SEALED_REQUEST = 3800;
/**
 * The login and consent pages: no script, inline style only. No `form-action`: browsers apply it
 * to the redirect that answers the form too, which goes to the client's redirect URI.
 */
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2) and its login and consent forms.
 * The pending request lives in a sealed cookie, not in the log (DESIGN §4).
 */
@Controller()
export class AuthorizeController {
  private readonly flow: AuthorizationFlow;
  private readonly cookies: GatewayCookies;

  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {
    this.flow = new AuthorizationFlow(options);
    this.cookies = new GatewayCookies(options.issuer.startsWith('https:'));
  }

  @Get('/authorize')
  async authorizeGet(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.authorize(request.query as RawParams, request, reply);
  }

  /**
   * OIDC Core §3.1.2.1: the authorization request may also be POSTed, as a form
   * (application/x-www-form-urlencoded); any other body is `invalid_request`.
   */
  @Post('/authorize')
  async authorizePost(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded' || typeof request.body !== 'object' || request.body === null) {
      const error = new OAuthError('invalid_request', 'an authorization request is a query or an application/x-www-form-urlencoded form', { mayRedirect: false });
      return this.render(reply, { kind: 'error_page', error }, chooseLocale(undefined, request.headers['accept-language']));
    }
    await this.authorize(request.body as RawParams, request, reply);
  }

  @Post('/authorize/login')
  async login(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.withPendingRequest(request, reply, LoginForm, async (pending, form, ctx) => {
      // The source is the client address as this gateway sees it (IDP_TRUST_PROXY decides whether
      // a forwarded address counts): authn throttles failures per source and keeps only its HMAC.
      const credentials = { username: form.username, password: form.password, source: loginSource(request.ip) };
      const result = await this.flow.login(ctx, pending, credentials);
      if (result.sessionToken && result.sessionExpiresAt) {
        this.cookies.setSession(reply, result.sessionToken, result.sessionExpiresAt);
      }
      return result.outcome;
    });
  }

  @Post('/authorize/consent')
  async consent(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.withPendingRequest(request, reply, ConsentForm, (pending, form, ctx) =>
      this.flow.consent(ctx, pending, this.cookies.read(request, this.cookies.session), form.decision === 'allow'),
    );
  }

  private async authorize(params: RawParams, request: FastifyRequest, reply: FastifyReply) {
    const ctx = requestContext(this.options.tenant, request.headers);
    const uiLocales = typeof params.ui_locales === 'string' ? params.ui_locales : undefined;
    const locale = chooseLocale(uiLocales, request.headers['accept-language']);
    try {
      await this.render(reply, await this.flow.start(ctx, params, this.cookies.read(request, this.cookies.session)), locale);
    } catch (error) {
      await this.render(reply, { kind: 'error_page', error: toOAuthError(error, this.options.logger) }, locale);
    }
  }

  private async withPendingRequest<T>(
    request: FastifyRequest,
    reply: FastifyReply,
    schema: z.ZodType<T & { rid: string }>,
    next: (pending: AuthorizationRequest, form: T, ctx: ReturnType<typeof requestContext>) => Promise<AuthorizationOutcome>,
  ) {
    const ctx = requestContext(this.options.tenant, request.headers);
    const sealed = this.cookies.read(request, this.cookies.authz);
    const pending = sealed ? await this.options.authzCookies.open<AuthorizationRequest>(sealed) : null;
    const form = schema.safeParse(request.body ?? {});
    // The forms' own language: the pending request's ui_locales, then the browser's.
    const locale = chooseLocale(pending?.uiLocales?.join(' '), request.headers['accept-language']);
    if (!pending) {
      return this.render(
        reply,
        { kind: 'error_page', error: new OAuthError('invalid_request', 'the authorization request expired or is missing; start again', { mayRedirect: false }) },
        locale,
      );
    }
    // The form must belong to this pending request: a cross-site post cannot know the rid.
    if (!form.success || form.data.rid !== pending.rid) {
      return this.render(
        reply,
        { kind: 'error_page', error: new OAuthError('invalid_request', 'the form does not match the pending authorization request', { mayRedirect: false }) },
        locale,
      );
    }
    try {
      await this.render(reply, await next(pending, form.data, ctx), locale);
    } catch (error) {
      const oauth = toOAuthError(error, this.options.logger);
      await this.render(
        reply,
        oauth.mayRedirect ? this.flow.errorResponse(pending, oauth) : { kind: 'error_page', error: oauth },
        locale,
      );
    }
  }

  private async render(reply: FastifyReply, outcome: AuthorizationOutcome, locale: Locale): Promise<void> {
    reply
      .header('Cache-Control', 'no-store')
      .header('Pragma', 'no-cache')
      .header('X-Frame-Options', 'DENY')
      .header('Content-Security-Policy', PAGE_CSP)
      .header('Referrer-Policy', 'no-referrer');
    switch (outcome.kind) {
      case 'respond': {
        this.cookies.clearAuthz(reply);
        const response = outcome.response;
        if (response.kind === 'redirect') {
          // RFC 9700 §4.12: 303 so that a POSTed form (with the password) is never re-sent.
          reply.status(303).header('Location', response.uri).send();
          return;
        }
        reply
          .status(200)
          .header('Content-Security-Policy', formPostContentSecurityPolicy(response.action))
          .type('text/html; charset=utf-8')
          .send(formPostPage(response.action, response.fields));
        return;
      }
      case 'login':
        if (!(await this.keepPending(reply, outcome.request, locale))) return;
        reply
          .status(outcome.failed ? 401 : 200)
          .type('text/html; charset=utf-8')
          .header('Content-Language', locale)
          .send(loginPage(outcome.client, outcome.request.rid, outcome.failed === true, locale, outcome.request.loginHint));
        return;
      case 'consent':
        if (!(await this.keepPending(reply, outcome.request, locale))) return;
        reply
          .status(200)
          .type('text/html; charset=utf-8')
          .header('Content-Language', locale)
          .send(consentPage(outcome.client, { ...outcome.request, scope: consentScopes(outcome.request).join(' '), account: outcome.account }, locale));
        return;
      case 'error_page': {
        const status = outcome.error.status >= 500 ? outcome.error.status : 400;
        if (status === 503) reply.header('Retry-After', '1');
        reply.status(status).type('text/html; charset=utf-8').header('Content-Language', locale).send(errorPage(outcome.error, locale));
        return;
      }
    }
  }

  /**
   * Seals the pending request into its cookie. One too large for a cookie (long state, nonce and
   * claims together) is answered as `invalid_request` instead: a cookie the browser would drop
   * would only fail later, less clearly.
   */
  private async keepPending(reply: FastifyReply, request: AuthorizationRequest, locale: Locale): Promise<boolean> {
    const sealed = await this.options.authzCookies.seal({ ...request }, AUTHZ_COOKIE_TTL_SECONDS);
    if (sealed.length <= MAX_SEALED_REQUEST) {
      this.cookies.setAuthz(reply, sealed);
      return true;
    }
    await this.render(reply, this.flow.errorResponse(request, new OAuthError('invalid_request', 'the authorization request is too large')), locale);
    return false;
  }
}
