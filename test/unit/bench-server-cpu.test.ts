import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { childPidsOf, cpuSecondsOf } from '../bench/server-cpu.js';

/** The bench's CPU-per-request figure rests on these two readings of /proc (Linux only, like the bench's pinning). */
describe('bench: CPU time of the server processes', () => {
  it('grows by about the CPU this process burns, and is undefined for a process that is gone', () => {
    const before = cpuSecondsOf([process.pid])!;
    const until = performance.now() + 300;
    let digest = Buffer.alloc(32);
    while (performance.now() < until) digest = createHash('sha256').update(digest).digest();
    const after = cpuSecondsOf([process.pid])!;
    // 300 ms of busy work, read in ticks of 10 ms; the machine may take some of it away.
    expect(after - before).toBeGreaterThan(0.1);
    expect(after - before).toBeLessThan(2);
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
