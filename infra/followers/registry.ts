import type { Follower } from './follower.js';
import { lagSeconds } from './follower.js';

/**
 * The followers running in this process (projectors, the relay). They register when they start
 * and leave when they stop; readiness and /metrics look at all of them, whichever service owns
 * them (the embedded mode runs the projectors of three services in one process).
 */
const running = new Set<Follower>();

export function registerFollower(follower: Follower): () => void {
  running.add(follower);
  return () => running.delete(follower);
}

export function runningFollowers(): Follower[] {
  return [...running];
}

/**
 * The readiness check of every follower: fails when one has failed (a poison event), is
 * retrying a failed target, or is more than `maxLagMs` behind the log. A relay on standby and a
 * follower being stopped count as fine. The message names each problem.
 */
export async function checkFollowers(maxLagMs: number, now = Date.now()): Promise<void> {
  const problems: string[] = [];
  await Promise.all(
    runningFollowers().map(async (follower) => {
      const status = follower.status();
      if (status.state === 'standby' || status.state === 'stopped') return;
      if (status.state === 'failed') {
        problems.push(`${status.name} stopped at position ${status.poison?.position ?? status.position}: ${status.lastError ?? 'poison event'}`);
        return;
      }
      if (status.state === 'retrying') {
        problems.push(`${status.name} is retrying: ${status.lastError ?? 'target failed'}`);
        return;
      }
      const lag = await lagSeconds(follower, now);
      if (lag * 1000 > maxLagMs) problems.push(`${status.name} is ${lag.toFixed(1)} s behind the log`);
    }),
  );
  if (problems.length > 0) throw new Error(problems.sort().join('; '));
}
