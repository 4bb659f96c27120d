import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../../app/gateway.options.js';
import { escapeHtml, page } from '../pages/html.js';

/**
 * The demo client's redirect URI (embedded mode with IDP_DEMO=on): shows what an application
 * would receive and how it would redeem it. Not mounted when the demo is off.
 */
@Controller()
export class DemoCallbackController {
  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions) {}

  @Get('/demo/callback')
  callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const query = request.query as Record<string, unknown>;
    const text = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : '');
    const issuer = this.options.issuer;
    const body = text('error')
      ? `<h1>The authorization failed</h1><p class="error"><code>${escapeHtml(text('error'))}</code> ${escapeHtml(text('error_description'))}</p>`
      : `<h1>The demo application received a code</h1>
<p>Issuer (RFC 9207 <code>iss</code>): <code>${escapeHtml(text('iss'))}</code></p>
<p>Redeem it within a minute, with the code_verifier printed at start-up:</p>
<pre style="white-space:pre-wrap;word-break:break-all">curl -s ${escapeHtml(issuer)}/token -d grant_type=authorization_code -d client_id=demo \\
  -d redirect_uri=${escapeHtml(issuer)}/demo/callback \\
  -d code=${escapeHtml(text('code'))} \\
  -d code_verifier=&lt;code_verifier&gt;</pre>`;
    reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer').type('text/html; charset=utf-8').send(page('Demo callback', body));
  }
}
