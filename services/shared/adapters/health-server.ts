import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isIP } from 'node:net';
import type { LiveDigest } from '../../../infra/projections/live-digest.js';
import { registry } from '../../../infra/metrics/metrics.js';

export type ReadinessCheck = () => Promise<void>;

/** The digests of this process's projections at `now` (epoch ms), each with its position (live-digest.ts). */
export type ProjectionDigests = (now: number) => Promise<LiveDigest[]>;

/** Who asks, for the routes that only a local operator may call. */
export interface HealthRequest {
  /** The query string, without '?'. */
  query: string;
  /** The TCP peer's address (never a forwarded one). */
  peer: string | undefined;
  /** Whether the request carries Forwarded or X-Forwarded-For: it came through a proxy. */
  forwarded: boolean;
}

/**
 * Whether a request comes from this host itself, not through a proxy: `idp rebuild --verify`
 * run beside the server, or through `kubectl port-forward` (which connects from the pod's own
 * loopback). A proxy on the same host forwards with Forwarded / X-Forwarded-For: refused.
 */
export function fromThisHost(request: HealthRequest | undefined): boolean {
  if (request === undefined || request.forwarded || request.peer === undefined) return false;
  const peer = request.peer.startsWith('::ffff:') ? request.peer.slice('::ffff:'.length) : request.peer;
  if (isIP(peer) === 4) return peer.startsWith('127.');
  return peer === '::1';
}

const CHECK_TIMEOUT_MS = 2000;

/**
 * Liveness, readiness and metrics for one process (Kubernetes probes, Prometheus):
 * - GET /healthz: 200 while the process runs its event loop;
 * - GET /readyz: 200 only when every dependency answers (bus, store, projections), 503 otherwise
 *   and from the moment shutdown begins, so no new traffic is routed here;
 * - GET /metrics: the Prometheus registry;
 * - GET /projections/digest: with a digest source, the live projections' digests (this host only).
 */
export class HealthEndpoints {
  private shuttingDown = false;
  /** One digest computation at a time: it walks the whole live state. */
  private digesting: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly checks: Record<string, ReadinessCheck>,
    private readonly logger: Logger,
    /**
     * GET /projections/digest?now=<epoch ms>: the digests of the projections this process keeps
     * in memory, for `idp rebuild --verify --server` (README "Rebuild"). Only from this host.
     */
    private readonly projectionDigests?: ProjectionDigests,
  ) {}

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  /** Answers if the path is one of ours; returns false otherwise. */
  async handle(
    method: string,
    path: string,
    respond: (status: number, type: string, body: string) => void,
    request?: HealthRequest,
  ): Promise<boolean> {
    if (method !== 'GET') return false;
    if (path === '/projections/digest' && this.projectionDigests !== undefined) {
      await this.digests(this.projectionDigests, respond, request);
      return true;
    }
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

  /**
   * Digests and positions only, never a value; still, only a caller on this host gets them (the
   * walk over the whole state is not for the Internet to trigger), one walk at a time.
   */
  private async digests(source: ProjectionDigests, respond: (status: number, type: string, body: string) => void, request: HealthRequest | undefined) {
    if (!fromThisHost(request)) {
      respond(403, 'application/json', JSON.stringify({ error: 'forbidden', error_description: 'projection digests are served to this host only' }));
      return;
    }
    const nowText = new URLSearchParams(request?.query ?? '').get('now');
    const now = nowText === null ? Date.now() : /^\d{1,16}$/.test(nowText) ? Number(nowText) : Number.NaN;
    if (!Number.isSafeInteger(now)) {
      respond(400, 'application/json', JSON.stringify({ error: 'invalid_request', error_description: 'now must be epoch milliseconds' }));
      return;
    }
    const run = this.digesting.then(() => source(now));
    this.digesting = run.catch(() => {});
    try {
      respond(200, 'application/json', JSON.stringify({ now, projections: await run }));
    } catch (error) {
      this.logger.warn({ err: error }, 'projection digest failed');
      respond(503, 'application/json', JSON.stringify({ error: 'unavailable', error_description: (error as Error).message }));
    }
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
      const [path = '/', query = ''] = (req.url ?? '/').split('?');
      const forwarded = req.headers.forwarded !== undefined || req.headers['x-forwarded-for'] !== undefined;
      void this.handle(
        req.method ?? 'GET',
        path,
        (status, type, body) => {
          res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
        },
        { query, peer: req.socket.remoteAddress, forwarded },
      ).then((handled) => {
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
