import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLog } from './generate-log.js';
import { FLOWS_PER_1000 } from './traffic-mix.js';

/**
 * `npm run bench:replay [-- --events N] [--keep] [--profile]`: writes a realistic log of N events
 * (default 1,000,000; traffic-mix.ts) into SQLite, then measures, each as its own process:
 * - `idp rebuild` (the real bin): events/s and peak RSS (VmHWM of /proc/<pid>/status);
 * - `idp verify` (every hash chain and seal), events/s and RSS.
 * `--profile` runs the rebuild once more under `node --cpu-prof` and prints the top functions.
 * Results go to stdout; bench/RESULTS.md records them.
 */
const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
};
const events = Number(option('--events') ?? 1_000_000);
const dir = option('--dir') ?? join(tmpdir(), 'idp-bench-replay');
const file = join(dir, `idp-${events}.db`);
const IDP = fileURLToPath(new URL('../../../services/cli/main.js', import.meta.url));
const PROFILE_SUMMARY = fileURLToPath(new URL('../profile-summary.js', import.meta.url));

interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** User + system CPU time of the process (its last sample): what a busy machine does not inflate. */
  cpuSeconds: number;
  peakRssMb: number;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Runs a node script, sampling its VmHWM (peak resident set) until it exits. */
function measure(script: string, scriptArgs: string[], env: Record<string, string>, nodeArgs: string[] = []): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [...nodeArgs, script, ...scriptArgs], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    let cpuTicks = 0;
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const sample = () => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
        // Fields 14 and 15 (utime, stime), counted after the command name's closing parenthesis.
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpuTicks = Math.max(cpuTicks, Number(fields[11]) + Number(fields[12]));
      } catch {
        // gone
      }
    };
    const timer = setInterval(sample, 20);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(timer);
      resolve({
        code,
        stdout,
        stderr,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        cpuSeconds: cpuTicks / TICKS_PER_SECOND,
        peakRssMb: Math.round(peakKb / 1024),
      });
    });
  });
}

mkdirSync(dir, { recursive: true });
if (!existsSync(file) || args.includes('--regenerate')) {
  rmSync(file, { force: true });
  process.stderr.write(`writing ${events} events into ${file}\n`);
  const generated = await generateLog(file, events, (n) => process.stderr.write(`\r  ${n} events`));
  process.stderr.write(`\n  in ${generated.seconds.toFixed(1)} s\n`);
  console.log(JSON.stringify({ generated }, null, 1));
}
const bytes = statSync(file).size;
const env = { EVENT_STORE_URL: `sqlite:${file}` };

const rebuild = await measure(IDP, ['rebuild', '--json'], env);
if (rebuild.code !== 0) throw new Error(`idp rebuild exited ${rebuild.code}: ${rebuild.stderr}`);
const rows = JSON.parse(rebuild.stdout) as Array<{ projection: string; position: number; events: number; entries: number }>;
// A fresh SQLite file numbers its events 1..N: the head position is the size of the log.
const replayed = rows[0]!.position;
const verify = await measure(IDP, ['verify', '--json'], env);
if (verify.code !== 0) throw new Error(`idp verify exited ${verify.code}: ${verify.stdout.slice(0, 2000)} ${verify.stderr}`);
const verified = JSON.parse(verify.stdout) as { eventsChecked: number; streamsChecked: number };

const result = {
  date: new Date().toISOString(),
  node: process.version,
  loadAverage: loadavg().map((n) => Number(n.toFixed(1))),
  events: replayed,
  sqliteBytes: bytes,
  bytesPerEvent: Math.round(bytes / replayed),
  flowsPer1000: FLOWS_PER_1000,
  rebuild: {
    seconds: Number(rebuild.seconds.toFixed(2)),
    eventsPerSecond: Math.round(replayed / rebuild.seconds),
    cpuSeconds: rebuild.cpuSeconds,
    eventsPerCpuSecond: Math.round(replayed / rebuild.cpuSeconds),
    peakRssMb: rebuild.peakRssMb,
    liveEntries: Object.fromEntries(rows.map((r) => [r.projection, r.entries])),
    eventsRead: Object.fromEntries(rows.map((r) => [r.projection, r.events])),
  },
  verify: {
    seconds: Number(verify.seconds.toFixed(2)),
    eventsPerSecond: Math.round(verified.eventsChecked / verify.seconds),
    cpuSeconds: verify.cpuSeconds,
    eventsPerCpuSecond: Math.round(verified.eventsChecked / verify.cpuSeconds),
    peakRssMb: verify.peakRssMb,
    streams: verified.streamsChecked,
  },
};
console.log(JSON.stringify(result, null, 1));

if (args.includes('--profile')) {
  const profileDir = join(dir, 'profile');
  rmSync(profileDir, { recursive: true, force: true });
  await measure(IDP, ['rebuild', '--json'], env, ['--cpu-prof', '--cpu-prof-dir', profileDir]);
  const profile = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (profile) {
    const summary = await measure(PROFILE_SUMMARY, [join(profileDir, profile), '25'], {});
    console.log(summary.stdout);
  }
}
if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
