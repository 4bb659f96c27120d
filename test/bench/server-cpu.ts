import fs from 'node:fs';

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux on every architecture). */
const TICKS_PER_SECOND = 100;

/** The fields of /proc/<pid>/stat after the command name (which is in parentheses and may hold spaces). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds the processes have used so far, all their threads (user and system time, from
 * /proc/<pid>/stat), or undefined where one cannot be read (no /proc, or it has exited). The
 * bench reports the server's CPU time per request beside its rate: on this noisy machine a
 * throughput moves with what the neighbours do, while the CPU a request costs moves much less,
 * so it is what tells one build from the next.
 */
export function cpuSecondsOf(pids: readonly number[]): number | undefined {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    const utime = Number(fields?.[11]);
    const stime = Number(fields?.[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    ticks += utime + stime;
  }
  return ticks / TICKS_PER_SECOND;
}

/** The processes whose parent is `pid` (Linux; none where there is no /proc). */
export function childPidsOf(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((name) => /^\d+$/.test(name) && Number(statFields(Number(name))?.[1]) === pid).map(Number);
}

/** A short name for a server process: the service of `services/<name>/main.js`, else the program's name. */
export function processNameOf(pid: number): string {
  let argv: string[];
  try {
    argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return String(pid);
  }
  for (const arg of argv) {
    const service = /services\/([a-z-]+)\/main\.js$/.exec(arg)?.[1];
    if (service) return service;
  }
  return argv[0]?.split('/').pop() || String(pid);
}
