import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { childPidsOf, cpuSecondsOf } from '../bench/server-cpu.js';

/** The bench's CPU-per-request figure rests on these two readings of /proc (Linux only, like the bench's pinning). */
describe('bench: CPU time of the server processes', () => {
  it('grows by the CPU this process burns, and is undefined for a process that is gone', () => {
    const before = cpuSecondsOf([process.pid])!;
    const start = process.cpuUsage();
    const wallLimit = performance.now() + 20_000;
    let digest = Buffer.alloc(32);
    // Burn 300 ms of CPU (not of wall time: a loaded machine may give this process a fraction of a core).
    const burned = () => {
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1e6;
    };
    while (burned() < 0.3 && performance.now() < wallLimit) digest = createHash('sha256').update(digest).digest();
    const used = burned();
    const after = cpuSecondsOf([process.pid])!;
    // /proc counts in ticks of 10 ms, and the process's other threads (GC) may add to it.
    expect(after - before).toBeGreaterThan(used - 0.05);
    expect(after - before).toBeLessThan(used + 1);
    expect(cpuSecondsOf([process.pid, 2 ** 22 + 7])).toBeUndefined();
  });

  it('finds the processes this one spawned, and sums them with it', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10_000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      expect(childPidsOf(process.pid)).toContain(child.pid);
      const alone = cpuSecondsOf([process.pid])!;
      expect(cpuSecondsOf([process.pid, child.pid!])!).toBeGreaterThanOrEqual(alone);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
