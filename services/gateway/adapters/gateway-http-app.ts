import fastifyCookie from '@fastify/cookie';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PinoNestLogger } from '../../../infra/log/nest-logger.js';
import { httpDuration, httpRequests } from '../../../infra/metrics/metrics.js';
import type { HealthEndpoints } from '../../shared/adapters/health-server.js';
import type { GatewayOptions } from '../app/gateway.options.js';
import { GatewayModule } from './gateway.module.js';

/**
 * The gateway's HTTP application, the same in both modes: Fastify under Nest, cookies, request
 * metrics by route template (bounded label values), and /healthz /readyz /metrics.
 */
export async function createGatewayHttpApp(
  options: GatewayOptions & { demoCallback?: boolean },
  health: HealthEndpoints,
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRoot(options),
    new FastifyAdapter({ bodyLimit: 64 * 1024 }),
    { logger: new PinoNestLogger(options.logger) },
  );
  await app.register(fastifyCookie);
  const fastify = app.getHttpAdapter().getInstance();
  const started = new WeakMap<FastifyRequest, () => number>();
  fastify.addHook('onRequest', async (request: FastifyRequest) => {
    started.set(request, httpDuration.startTimer({ method: request.method, route: routeOf(request) }));
  });
  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    started.get(request)?.();
    httpRequests.inc({ method: request.method, route: routeOf(request), status: String(reply.statusCode) });
  });
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    fastify.get(path, async (_request: FastifyRequest, reply: FastifyReply) => {
      await health.handle('GET', path, (status, type, body) => {
        reply.status(status).header('Content-Type', type).header('Cache-Control', 'no-store').send(body);
      });
      return reply;
    });
  }
  return app;
}

/** The matched route template, never the raw URL (which carries codes and states). */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions?.url ?? 'unmatched';
}
