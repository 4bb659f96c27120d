import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { registry } from '../../../infra/metrics/metrics.js';

export type ReadinessCheck = () => Promise<void>;

const CHECK_TIMEOUT_MS = 2000;

/**
 * Liveness, readiness and metrics for one process (Kubernetes probes, Prometheus):
 * - GET /healthz: 200 while the process runs its event loop;
 * - GET /readyz: 200 only when every dependency answers (bus, store, projections), 503 otherwise
 *   and from the moment shutdown begins, so no new traffic is routed here;
 * - GET /metrics: the Prometheus registry.
 */
export class HealthEndpoints {
  private shuttingDown = false;

  constructor(
    private readonly checks: Record<string, ReadinessCheck>,
    private readonly logger: Logger,
  ) {}

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  /** Answers if the path is one of ours; returns false otherwise. */
  async handle(method: string, path: string, respond: (status: number, type: string, body: string) => void): Promise<boolean> {
    if (method !== 'GET') return false;
    if (path === '/healthz') {
      respond(200, 'application/json', JSON.stringify({ status: 'ok' }));
      return true;
    }
    if (path === '/readyz') {
      const { ready, results } = await this.readiness();
      respond(ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'not_ready', checks: results }));
      return true;
    }
    if (path === '/metrics') {
      respond(200, registry.contentType, await registry.metrics());
      return true;
    }
    return false;
  }

  async readiness(): Promise<{ ready: boolean; results: Record<string, string> }> {
    const results: Record<string, string> = {};
    if (this.shuttingDown) results.shutdown = 'in progress';
    await Promise.all(
      Object.entries(this.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          results[name] = 'ok';
        } catch (error) {
          results[name] = (error as Error).message || 'failed';
          // The reason only: a probe every few seconds must not flood the log with stacks.
          this.logger.warn({ check: name, reason: results[name] }, 'readiness check failed');
        }
      }),
    );
    return { ready: Object.values(results).every((r) => r === 'ok'), results };
  }

  /** A standalone HTTP server for services that have no HTTP port of their own. */
  listen(port: number, host: string): Promise<Server> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      void this.handle(req.method ?? 'GET', path, (status, type, body) => {
        res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
      }).then((handled) => {
        if (!handled) res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not_found"}');
      });
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}
