import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PinoNestLogger } from '../../../infra/log/nest-logger.js';
import { httpDuration, httpRequests } from '../../../infra/metrics/metrics.js';
import type { HealthEndpoints } from '../../shared/adapters/health-server.js';
import type { GatewayOptions } from '../app/gateway.options.js';
import { warnOnOpenRegistration } from '../app/open-registration-warning.js';
import { fastifyTrustProxy } from '../app/trusted-proxies.js';
import { GatewayModule } from './gateway.module.js';
import { oauthClientErrorHandler, refuseConnect } from './http/client-error.handler.js';
import { EdgeErrorFilter } from './http/edge-error.filter.js';
import { useStrictBodyParsers } from './strict-body-parsers.js';

/**
 * The gateway's HTTP application, the same in both modes: Fastify under Nest, cookies, request
 * metrics by route template (bounded label values), and /healthz /readyz /metrics.
 */
/**
 * What browser apps (SPAs) call cross-origin: discovery, JWKS, token, revocation (RFC 7009 §5)
 * and userinfo (OIDC Core §5.3, RFC 8414). Never the authorization endpoint, its forms or registration; never with
 * credentials (these endpoints take no cookies).
 */
/** The largest request body the gateway reads (a larger one is 413 `invalid_request`). */
export const BODY_LIMIT_BYTES = 64 * 1024;

const CORS_PATHS = new Set(['/.well-known/openid-configuration', '/jwks', '/token', '/revoke', '/userinfo']);

/**
 * `health.public`: which health paths the public port serves. The embedded server has one port
 * for everything; the distributed gateway keeps /metrics and /readyz on HEALTH_PORT only.
 */
export async function createGatewayHttpApp(
  options: GatewayOptions & { demoCallback?: boolean },
  health: HealthEndpoints,
  publicHealthPaths: string[] = ['/healthz', '/readyz', '/metrics', '/projections/digest'],
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRoot(options),
    // `request.ip` is the client address: the TCP peer, or with trusted proxies what they forwarded.
    new FastifyAdapter({
      bodyLimit: BODY_LIMIT_BYTES,
      clientErrorHandler: oauthClientErrorHandler,
      trustProxy: fastifyTrustProxy(options.trustedProxies),
    }),
    { logger: new PinoNestLogger(options.logger) },
  );
  warnOnOpenRegistration(options.issuer, options.initialAccessToken, options.logger);
  app.useGlobalFilters(new EdgeErrorFilter(options.logger));
  useStrictBodyParsers(app, BODY_LIMIT_BYTES);
  await app.register(fastifyCookie);
  await app.register(fastifyCors, {
    delegator: (request, callback) => {
      const path = (request.url ?? '').split('?')[0] ?? '';
      callback(
        null,
        CORS_PATHS.has(path)
          ? { origin: '*', methods: ['GET', 'POST'], allowedHeaders: ['Authorization', 'Content-Type'], credentials: false, maxAge: 600 }
          : { origin: false },
      );
    },
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.server.on('connect', refuseConnect);
  // Callback hooks, not async ones: on every request, an async hook costs a promise and a turn of
  // the microtask queue for nothing (issue 12).
  fastify.addHook('onSend', (_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    done(null, payload);
  });
  const started = new WeakMap<FastifyRequest, () => number>();
  fastify.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    started.set(request, httpDuration.startTimer({ method: request.method, route: routeOf(request) }));
    done();
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    started.get(request)?.();
    httpRequests.inc({ method: request.method, route: routeOf(request), status: String(reply.statusCode) });
    done();
  });
  for (const path of publicHealthPaths) {
    fastify.get(path, async (request: FastifyRequest, reply: FastifyReply) => {
      const forwarded = request.headers.forwarded !== undefined || request.headers['x-forwarded-for'] !== undefined;
      const handled = await health.handle(
        'GET',
        path,
        (status, type, body) => {
          reply.status(status).header('Content-Type', type).header('Cache-Control', 'no-store').send(body);
        },
        // The TCP peer, not request.ip: a trusted proxy's forwarded address must not pass as this host.
        { query: (request.url ?? '').split('?')[1] ?? '', peer: request.socket.remoteAddress, forwarded },
      );
      if (!handled) reply.status(404).header('Content-Type', 'application/json').send('{"error":"not_found"}');
      return reply;
    });
  }
  return app;
}

/** The matched route template, never the raw URL (which carries codes and states). */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions?.url ?? 'unmatched';
}
