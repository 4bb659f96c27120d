import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { LiveDigest } from '../../../infra/projections/live-digest.js';
import { PROJECTION_NAMES, PROJECTIONS, projectionNamed, type ProjectionNamespace } from '../../embedded/projection-catalogue.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { printRows, type Column } from '../output.js';
import { startProgress } from '../progress.js';
import { liveFromRedis, liveFromServers, type LiveState } from '../rebuild/live-digests.js';
import { replayLog, type RebuiltProjection } from '../rebuild/replay-log.js';

interface RebuildOptions {
  projection?: string;
  verify?: boolean;
  server?: string[];
  redis?: string;
  json?: boolean;
}

interface Row extends RebuiltProjection {
  live?: string;
  match?: boolean;
}

/** How often, and how long apart, --verify asks again for a live state that is still moving. */
const SETTLE_ATTEMPTS = 40;
const SETTLE_PAUSE_MS = 250;

const VERIFY_NEEDS_LIVE =
  '--verify compares with the live state: give --server URL (a server keeping its projections in memory: ' +
  "the embedded server's address, or a backend's HEALTH_PORT) or --redis URL / PROJECTIONS_URL=redis://… " +
  "(distributed: IDP_REDIS_PASSWORD is the admin user's password)";

/**
 * `idp rebuild [--projection NAME] [--verify] [--json]`: replays `$all` into fresh projections
 * (DESIGN §6) and prints, per projection, the events replayed, its live entries and its digest.
 * With `--verify`, the digest of each is compared with the live state's at the same position and
 * the same `now` (expired entries left out): any difference exits 1.
 */
export function registerRebuild(program: Command, ctx: CliContext): void {
  program
    .command('rebuild')
    .description('replay the log into fresh projections and print their digests; --verify compares them with the live state')
    .option('--projection <name>', `only this projection: ${PROJECTION_NAMES.join(', ')}`)
    .option('--verify', 'compare with the live projections (exit 1 on any difference)')
    .option('--server <url...>', 'with --verify: a server keeping its projections in memory (GET /projections/digest, from this host only)')
    .option('--redis <url>', 'with --verify: the Redis of a distributed deployment (default PROJECTIONS_URL), as the read-only admin user')
    .option('--json', 'print JSON')
    .action(async (options: RebuildOptions) => {
      const namespaces = selected(options.projection);
      const live = options.verify ? liveState(options, ctx) : undefined;
      if (!options.verify && (options.server !== undefined || options.redis !== undefined)) {
        throw new CliError(EXIT.usage, '--server and --redis name the live state for --verify');
      }
      const now = ctx.now().getTime();
      const store = await ctx.openLog();
      try {
        const liveDigests = live ? await settledLiveDigests(live, namespaces, now) : undefined;
        const progress = startProgress(ctx, 'rebuild', 0);
        let rebuilt: RebuiltProjection[];
        try {
          const targets = namespaces.map((namespace) => ({ namespace, upTo: liveDigests?.get(namespace.service)?.position ?? undefined }));
          rebuilt = await replayLog(store, targets, { now, tenant: ctx.tenant, progress, signal: ctx.signal });
        } finally {
          progress.stop();
        }
        const rows: Row[] = rebuilt.map((r) => {
          const liveDigest = liveDigests?.get(r.projection);
          return liveDigest === undefined ? r : { ...r, live: liveDigest.digest, match: liveDigest.digest === r.digest && liveDigest.position === r.position };
        });
        printRows(ctx.stdout, options.json === true, rows, columns(live !== undefined));
        const differing = rows.filter((r) => r.match === false).map((r) => r.projection);
        if (differing.length > 0) {
          throw new CliError(EXIT.failed, `the rebuilt state differs from the live state (${live!.describe}): ${differing.join(', ')}`);
        }
      } finally {
        await store.close();
        await live?.close();
      }
    });
}

function selected(name: string | undefined): readonly ProjectionNamespace[] {
  if (name === undefined) return PROJECTIONS;
  const namespace = projectionNamed(name);
  if (namespace === undefined) throw new CliError(EXIT.usage, `unknown projection "${name}": use one of ${PROJECTION_NAMES.join(', ')}`);
  return [namespace];
}

function liveState(options: RebuildOptions, ctx: CliContext): LiveState {
  if (options.server !== undefined && options.redis !== undefined) throw new CliError(EXIT.usage, 'give --server or --redis, not both');
  if (options.server !== undefined) {
    for (const url of options.server) {
      if (!/^https?:\/\/[^/]+/.test(url)) throw new CliError(EXIT.usage, `--server must be an http(s) URL: ${url}`);
    }
    return liveFromServers(options.server);
  }
  const url = options.redis ?? ctx.env.PROJECTIONS_URL;
  if (url === undefined || url === '' || url === 'memory:') throw new CliError(EXIT.usage, VERIFY_NEEDS_LIVE);
  if (!/^rediss?:\/\/[^/]+/.test(url)) throw new CliError(EXIT.usage, `not a Redis URL: ${url.replace(/\/\/[^@/]*@/, '//')}`);
  const ca = ctx.env.IDP_REDIS_CA;
  return liveFromRedis({
    url,
    username: ctx.env.IDP_REDIS_USERNAME || 'admin',
    ...(ctx.env.IDP_REDIS_PASSWORD ? { password: ctx.env.IDP_REDIS_PASSWORD } : {}),
    ...(ca ? { ca: readFileSync(ca, 'utf8') } : {}),
  });
}

/**
 * The live digests, asked again until every projection is settled (its checkpoints agree, did
 * not move while it was read, and nothing was written through above them): then each stands for
 * one position of the log, which the rebuild replays up to.
 */
async function settledLiveDigests(live: LiveState, namespaces: readonly ProjectionNamespace[], now: number): Promise<Map<string, LiveDigest>> {
  let last: LiveDigest[] = [];
  for (let attempt = 1; attempt <= SETTLE_ATTEMPTS; attempt++) {
    last = await live.digests(namespaces, now);
    const missing = namespaces.filter((n) => !last.some((d) => d.name === n.service)).map((n) => n.service);
    if (missing.length > 0) throw new CliError(EXIT.unavailable, `${live.describe} reports no projection ${missing.join(', ')}`);
    if (last.every((d) => d.position !== null)) return new Map(last.map((d) => [d.name, d]));
    await sleep(SETTLE_PAUSE_MS);
  }
  const moving = last.filter((d) => d.position === null).map((d) => `${d.name} ${JSON.stringify(d.checkpoints)}`);
  throw new CliError(EXIT.unavailable, `the live projections did not settle (checkpoints moving or apart, or a write ahead of them): ${moving.join('; ')}`);
}

function columns(verify: boolean): Column<Row>[] {
  const base: Column<Row>[] = [
    { header: 'PROJECTION', value: (r) => r.projection },
    { header: 'POSITION', value: (r) => r.position },
    { header: 'EVENTS', value: (r) => r.events },
    { header: 'ENTRIES', value: (r) => r.entries },
    { header: 'DIGEST', value: (r) => r.digest },
  ];
  if (!verify) return base;
  return [...base, { header: 'LIVE', value: (r) => (r.match ? 'same' : (r.live ?? '-')) }, { header: 'VERIFIED', value: (r) => (r.match ? 'yes' : 'DIFFERS') }];
}
