import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { LoadResult } from './load.js';
import type { BenchOptions } from './options.js';
import type { Pinning } from './pinning.js';
import type { Argon2Result } from './scenarios/argon2.js';
import type { HistoryCost } from './scenarios/history.js';
import { ratio } from './stats.js';
import type { TargetName } from './targets/target.js';

/** One server's outcome of one scenario. */
export type Outcome<T> = { status: 'ok'; result: T } | { status: 'not available' | 'failed' | 'skipped'; reason: string };

export interface ScenarioReport {
  id: string;
  title: string;
  unit: 'request' | 'flow';
  sides: Partial<Record<TargetName, Outcome<LoadResult>>>;
}

export interface BenchReport {
  date: string;
  machine: { nproc: number; cpu: string; node: string; commit: string; oidcProvider: string };
  /** 1-minute load average at the start and the end: anything else running skews the figures. */
  loadAverage: { start: number; end?: number };
  pinning: { pinned: boolean; reason?: string; serverCore: number; loadCore: number };
  options: BenchOptions;
  scenarios: ScenarioReport[];
  argon2?: Outcome<Argon2Result>;
  refreshAfterRotations: Partial<Record<TargetName, Outcome<HistoryCost>>>;
  loginAfterLogins?: Outcome<HistoryCost>;
}

export function machine(): BenchReport['machine'] {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readOr('/proc/cpuinfo', ''))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim()) commit += '-dirty';
  } catch {
    // not a git checkout
  }
  const require = createRequire(import.meta.url);
  const oidcProvider = (JSON.parse(fs.readFileSync(require.resolve('oidc-provider/package.json'), 'utf8')) as { version: string }).version;
  // os.cpus(), not availableParallelism(): this process is pinned to one core by now.
  return { nproc: os.cpus().length, cpu, node: process.version, commit, oidcProvider };
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

const fixed = (n: number | undefined, digits: number) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits));
const times = (n: number | undefined) => (n === undefined ? '—' : `${n.toFixed(2)}×`);

export function pinningOf(p: Pinning): BenchReport['pinning'] {
  return { pinned: p.pinned, ...(p.reason ? { reason: p.reason } : {}), serverCore: p.serverCore, loadCore: p.loadCore };
}

/** The report as Markdown tables (what `npm run bench` prints, and what RESULTS.md records). */
export function renderReport(report: BenchReport): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(
    `bench ${report.date}: ${m.nproc} cores (${m.cpu}), Node ${m.node}, ours at ${m.commit}, oidc-provider ${m.oidcProvider}`,
    report.pinning.pinned
      ? `pinned with taskset: servers on core ${report.pinning.serverCore}, load generator on core ${report.pinning.loadCore}`
      : `NOT pinned (${report.pinning.reason ?? 'unknown'}): servers and load generator share the cores`,
    `load average (1 min) ${report.loadAverage.start.toFixed(1)} at the start, ${report.loadAverage.end?.toFixed(1) ?? '?'} at the end` +
      (report.loadAverage.start > 0.5 * m.nproc || (report.loadAverage.end ?? 0) > 0.5 * m.nproc ? ': other work was running, figures are noisy' : ''),
    `options: ${JSON.stringify(report.options)}`,
    '',
    '| scenario | ours /s | ours p50 ms | ours p99 ms | ours CPU ms | oidc-provider /s | theirs p50 ms | theirs p99 ms | theirs CPU ms | /s ours÷theirs | p50 ours÷theirs |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  const notes: string[] = [];
  for (const s of report.scenarios) {
    const cells = (side: Outcome<LoadResult> | undefined): string[] => {
      if (!side) return ['—', '—', '—', '—'];
      if (side.status !== 'ok') return [side.status, '', '', ''];
      return [fixed(side.result.perSecond, 1), fixed(side.result.p50, 1), fixed(side.result.p99, 1), fixed(side.result.serverCpuMs, 3)];
    };
    const ours = s.sides.ours;
    const theirs = s.sides['oidc-provider'];
    const okOurs = ours?.status === 'ok' ? ours.result : undefined;
    const okTheirs = theirs?.status === 'ok' ? theirs.result : undefined;
    lines.push(
      `| ${s.title} | ${[...cells(ours), ...cells(theirs)].join(' | ')} | ${times(ratio(okOurs?.perSecond, okTheirs?.perSecond))} | ${times(ratio(okOurs?.p50, okTheirs?.p50))} |`,
    );
    for (const [name, side] of Object.entries(s.sides)) {
      if (!side) continue;
      if (side.status !== 'ok') notes.push(`- ${s.id}, ${name}: ${side.reason}`);
      else {
        if (side.result.errors > 0) notes.push(`- ${s.id}, ${name}: ${side.result.errors} errors, first: ${side.result.firstError ?? ''}`);
        if (side.result.truncated) notes.push(`- ${s.id}, ${name}: stopped at the deadline after ${side.result.count} ${s.unit}s`);
      }
    }
  }
  const distributedRows = report.scenarios.filter((s) => s.sides['ours-distributed'] !== undefined);
  if (distributedRows.length > 0) {
    lines.push(
      '',
      '| scenario, distributed mode (all its processes on the server core) | /s | p50 ms | p99 ms | CPU ms (all processes) | /s distributed÷embedded |',
      '|---|---|---|---|---|---|',
    );
    for (const s of distributedRows) {
      const side = s.sides['ours-distributed']!;
      const embedded = s.sides.ours?.status === 'ok' ? s.sides.ours.result : undefined;
      lines.push(
        side.status === 'ok'
          ? `| ${s.title} | ${fixed(side.result.perSecond, 1)} | ${fixed(side.result.p50, 1)} | ${fixed(side.result.p99, 1)} | ${fixed(side.result.serverCpuMs, 3)} | ${times(ratio(side.result.perSecond, embedded?.perSecond))} |`
          : `| ${s.title} | ${side.status} | | | | |`,
      );
    }
    for (const s of distributedRows) {
      const side = s.sides['ours-distributed']!;
      const byProcess = side.status === 'ok' ? side.result.serverCpuMsByProcess : undefined;
      if (byProcess) {
        const parts = Object.entries(byProcess).sort(([, a], [, b]) => b - a).map(([name, ms]) => `${name} ${fixed(ms, 3)}`);
        notes.push(`- ${s.id}, ours-distributed, CPU ms per request by process: ${parts.join(', ')}`);
      }
    }
  }
  lines.push(...floorTable(report));
  lines.push(
    '',
    '/s: successful requests (or whole flows) per second; ratios above 1 mean ours is higher (faster for /s, slower for p50).',
    'CPU ms: the server\'s CPU time (all its threads and processes) per success while measured; less moved by how much of the core the server got than /s, though a busy host still moves it.',
  );

  lines.push('', '| cost after history | server | first ms (median) | after ms (median) | history | ratio after÷first |', '|---|---|---|---|---|---|');
  for (const [name, side] of Object.entries(report.refreshAfterRotations)) {
    lines.push(historyRow('refresh after rotations', name, side));
    if (side && side.status !== 'ok') notes.push(`- refresh-after-rotations, ${name}: ${side.reason}`);
  }
  const login = report.loginAfterLogins;
  if (login) {
    lines.push(historyRow('login after logins', 'ours', login));
    if (login.status !== 'ok') notes.push(`- login-after-logins, ours: ${login.reason}`);
  }

  if (report.argon2) {
    const a = report.argon2;
    lines.push(
      '',
      a.status === 'ok'
        ? `argon2id verify (m=${a.result.parameters.memoryCost} KiB, t=${a.result.parameters.timeCost}, p=${a.result.parameters.parallelism}) on one core: ${fixed(a.result.perSecond, 1)}/s, p50 ${fixed(a.result.p50, 1)} ms, p99 ${fixed(a.result.p99, 1)} ms`
        : `argon2id verify: ${a.status}: ${a.reason}`,
    );
  }
  if (notes.length > 0) lines.push('', 'notes:', ...notes);
  return `${lines.join('\n')}\n`;
}

/** The floor's rows (floor-main.ts), against oidc-provider and against ours, where it ran. */
function floorTable(report: BenchReport): string[] {
  const rows = report.scenarios.filter((s) => s.sides.floor !== undefined);
  if (rows.length === 0) return [];
  const lines = [
    '',
    '| scenario, the floor (our guarantees, nothing else: floor-main.ts) | /s | p50 ms | p99 ms | CPU ms | /s floor÷oidc-provider | CPU ms ours÷floor |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const s of rows) {
    const side = s.sides.floor!;
    if (side.status !== 'ok') {
      lines.push(`| ${s.title} | ${side.status} | | | | | |`);
      continue;
    }
    const theirs = s.sides['oidc-provider']?.status === 'ok' ? s.sides['oidc-provider'].result : undefined;
    const ours = s.sides.ours?.status === 'ok' ? s.sides.ours.result : undefined;
    const f = side.result;
    lines.push(
      `| ${s.title} | ${fixed(f.perSecond, 1)} | ${fixed(f.p50, 1)} | ${fixed(f.p99, 1)} | ${fixed(f.serverCpuMs, 3)} | ${times(ratio(f.perSecond, theirs?.perSecond))} | ${times(ratio(ours?.serverCpuMs, f.serverCpuMs))} |`,
    );
  }
  return lines;
}

function historyRow(what: string, name: string, side: Outcome<HistoryCost> | undefined): string {
  if (!side) return `| ${what} | ${name} | — | — | — | — |`;
  if (side.status !== 'ok') return `| ${what} | ${name} | ${side.status} | | | |`;
  const r = side.result;
  return `| ${what} | ${name} | ${fixed(r.firstMs, 2)} | ${fixed(r.afterMs, 2)} | ${r.history} in ${fixed(r.historySeconds, 0)} s | ${times(ratio(r.afterMs, r.firstMs))} |`;
}

export function writeReport(report: BenchReport, file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
