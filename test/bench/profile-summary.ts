import fs from 'node:fs';
import path from 'node:path';

/**
 * The top self-time functions of a V8 CPU profile (`node --cpu-prof`, e.g. from
 * `BENCH_PROFILE=1 npm run bench`):
 * `node dist/test/bench/profile-summary.js <file.cpuprofile> [top] [skip seconds]`, the start-up
 * (module loading, seeding users) left out by skipping its first seconds.
 * Self time is the samples whose top frame is the function, so idle time and time spent in
 * other threads (argon2 and SQLite run outside JavaScript) appear as (idle) / (program).
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds since the previous sample (the first: since startTime). */
  timeDeltas: number[];
}

const [file, topArg, skipArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.js <file.cpuprofile> [top] [skip seconds]');
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
const skipMicros = Number(skipArg ?? 0) * 1e6;
const kept: number[] = [];
let elapsed = 0;
profile.samples.forEach((id, i) => {
  elapsed += profile.timeDeltas[i] ?? 0;
  if (elapsed >= skipMicros) kept.push(id);
});
const total = kept.length;
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
const counts = new Map<number, number>();
for (const id of kept) counts.set(id, (counts.get(id) ?? 0) + 1);
for (const node of profile.nodes) {
  const hits = counts.get(node.id) ?? 0;
  if (hits === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'} ${where}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  const pkg = packageOf(url, functionName);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
}

function shorten(url: string): string {
  const marker = url.lastIndexOf('node_modules/');
  if (marker >= 0) return url.slice(marker + 'node_modules/'.length);
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 1) : path.basename(url);
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const marker = url.lastIndexOf('node_modules/');
  if (marker >= 0) {
    const rest = url.slice(marker + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return 'node (built-in)';
  const dist = /\/dist\/([^/]+\/[^/]+)/.exec(url);
  return dist ? `ours: ${dist[1]}` : url;
}

const top = Number(topArg ?? 25);
const pct = (hits: number) => `${((100 * hits) / total).toFixed(1).padStart(5)} %`;
process.stdout.write(
  `${total} samples over ${((profile.endTime - profile.startTime - skipMicros) / 1e6).toFixed(1)} s (first ${skipMicros / 1e6} s skipped)\n\nself time by function:\n`,
);
for (const [key, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(hits)}  ${key}\n`);
process.stdout.write('\nself time by package:\n');
for (const [key, hits] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(hits)}  ${key}\n`);
