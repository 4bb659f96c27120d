import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import type { RawParams } from '../../app/authorize/authorization-request.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { LogoutFlow, type LogoutOutcome } from '../../app/logout/logout-flow.js';
import { requestContext } from '../../app/request-context.js';
import { errorPage } from '../pages/error.page.js';
import { chooseLocale } from '../pages/i18n/locale.js';
import { logoutConfirmPage, signedOutPage } from '../pages/logout.page.js';
import { GatewayCookies } from './cookies.js';
import { toOAuthError } from './oauth-error.renderer.js';

const FORM = 'application/x-www-form-urlencoded';

/**
 * The end_session_endpoint (OpenID Connect RP-Initiated Logout 1.0 §2): GET with a query, or
 * POST with a form; and the confirmation form the OP shows when it must ask the user.
 */
@Controller()
export class LogoutController {
  private readonly flow: LogoutFlow;
  private readonly cookies: GatewayCookies;

  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {
    this.flow = new LogoutFlow(options);
    this.cookies = new GatewayCookies(options.issuer.startsWith('https:'));
  }

  @Get('/logout')
  async logoutGet(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.run(request, reply, () => this.start(request, request.query as RawParams));
  }

  @Post('/logout')
  async logoutPost(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.run(request, reply, async () => this.start(request, this.form(request)));
  }

  @Post('/logout/confirm')
  async confirm(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.run(request, reply, async () => {
      const confirmation = this.form(request).confirmation;
      const ctx = requestContext(this.options.tenant, request.headers);
      return this.flow.confirm(ctx, typeof confirmation === 'string' ? confirmation : undefined, this.cookies.read(request, this.cookies.session));
    });
  }

  private start(request: FastifyRequest, params: RawParams): Promise<LogoutOutcome> {
    const ctx = requestContext(this.options.tenant, request.headers);
    return this.flow.start(ctx, params, this.cookies.read(request, this.cookies.session));
  }

  /** §2: POST uses form serialization; any other body is refused (an error page). */
  private form(request: FastifyRequest): RawParams {
    if (!String(request.headers['content-type'] ?? '').startsWith(FORM)) {
      throw new OAuthError('invalid_request', `the logout request must be ${FORM}`, { mayRedirect: false });
    }
    return (request.body ?? {}) as RawParams;
  }

  private async run(request: FastifyRequest, reply: FastifyReply, outcome: () => Promise<LogoutOutcome>): Promise<void> {
    let result: LogoutOutcome;
    try {
      result = await outcome();
    } catch (error) {
      result = { kind: 'error_page', error: toOAuthError(error, this.options.logger), uiLocales: null };
    }
    // The request's ui_locales (kept in the confirmation form), then Accept-Language.
    const locale = chooseLocale(result.uiLocales ?? undefined, request.headers['accept-language']);
    reply
      .header('Content-Language', locale)
      .header('Cache-Control', 'no-store')
      .header('Pragma', 'no-cache')
      .header('X-Frame-Options', 'DENY')
      .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
      .header('Referrer-Policy', 'no-referrer');
    switch (result.kind) {
      case 'confirm':
        reply.status(200).type('text/html; charset=utf-8').send(logoutConfirmPage(result.client, result.confirmation, locale));
        return;
      case 'logged_out':
        this.cookies.clearSession(reply);
        if (result.redirectTo !== null) {
          // 303: a POSTed logout is not re-posted to the RP (RFC 9110 §15.4.4).
          reply.status(303).header('Location', result.redirectTo).send();
          return;
        }
        reply.status(200).type('text/html; charset=utf-8').send(signedOutPage(result.client, locale));
        return;
      case 'error_page': {
        const status = result.error.status >= 500 ? result.error.status : 400;
        if (status === 503) reply.header('Retry-After', '1');
        reply.status(status).type('text/html; charset=utf-8').send(errorPage(result.error, locale));
        return;
      }
    }
  }
}
