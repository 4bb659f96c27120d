import { z } from 'zod';

/**
 * What `npm run bench` is asked to do, from the environment (BENCH_N=...) or flags
 * (`npm run bench -- --n=500 --scenarios=client-credentials,introspection`). Every run is
 * bounded: counts, and a deadline per scenario and server.
 */
const Count = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const BenchOptions = z.object({
  /** Requests per request scenario (client credentials, introspection, refresh). */
  n: Count(2000),
  /** Browser flows per code-flow scenario. */
  flows: Count(200),
  /** Requests in flight for request scenarios. */
  concurrency: Count(16),
  /** Flows in flight in the many-users code-flow scenario (the one-user one always runs 8). */
  flowConcurrency: Count(8),
  /** Refresh-token lineages rotated in parallel. */
  lineages: Count(16),
  /** Distinct users seeded into both servers. */
  users: Count(64),
  /** Rotations of one lineage before its refresh is measured again. */
  history: Count(10_000),
  /** Seconds per scenario and server before it stops where it is. */
  deadlineSeconds: Count(90),
  /** Seconds for building the rotation history, per server. */
  historyDeadlineSeconds: Count(300),
  /** Comma-separated scenario ids (default: all). */
  scenarios: z.string().optional(),
  /** Comma-separated servers: ours, oidc-provider, ours-distributed, floor (default all four). */
  targets: z.string().default('ours,oidc-provider,ours-distributed,floor'),
  /** Start our server under `node --cpu-prof`, the profile written to bench/profiles/. */
  profile: z.enum(['0', '1']).default('0'),
  /** Where the machine-readable results go. */
  out: z.string().default('bench/last-run.json'),
  /** `--check`: after the run, check issue 12's targets against this run and the one before (targets-check.ts); exit 1 if any is missed. */
  check: z.enum(['0', '1']).default('0'),
});
export type BenchOptions = z.infer<typeof BenchOptions>;

const ENV_NAMES: Record<keyof BenchOptions, string> = {
  n: 'BENCH_N',
  flows: 'BENCH_FLOWS',
  concurrency: 'BENCH_CONCURRENCY',
  flowConcurrency: 'BENCH_FLOW_CONCURRENCY',
  lineages: 'BENCH_LINEAGES',
  users: 'BENCH_USERS',
  history: 'BENCH_HISTORY',
  deadlineSeconds: 'BENCH_DEADLINE_S',
  historyDeadlineSeconds: 'BENCH_HISTORY_DEADLINE_S',
  scenarios: 'BENCH_SCENARIOS',
  targets: 'BENCH_TARGETS',
  profile: 'BENCH_PROFILE',
  out: 'BENCH_OUT',
  check: 'BENCH_CHECK',
};

export function parseBenchOptions(env: NodeJS.ProcessEnv, argv: string[]): BenchOptions {
  const raw: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const arg of argv) {
    if (arg === '--check') {
      raw.check = '1';
      continue;
    }
    const match = /^--([a-z-]+)=(.*)$/.exec(arg);
    const key = match ? match[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) : undefined;
    if (!match || key === undefined || !(key in ENV_NAMES)) {
      throw new Error(`unknown argument ${arg}; known: ${Object.keys(ENV_NAMES).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=`).join(' ')}`);
    }
    raw[key] = match[2]!;
  }
  const parsed = BenchOptions.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`invalid bench options:\n${parsed.error.issues.map((i) => `  ${ENV_NAMES[i.path[0] as keyof BenchOptions] ?? i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}
