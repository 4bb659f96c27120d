import { fileURLToPath } from 'node:url';
import type { Pinning } from '../pinning.js';
import type { Summary } from '../stats.js';
import { startChildServer } from '../targets/child-server.js';

const MAIN = fileURLToPath(new URL('./argon2-main.js', import.meta.url));

export interface Argon2Result extends Summary {
  parameters: { memoryCost: number; timeCost: number; parallelism: number };
}

/** Runs argon2-main.ts on the server core (nothing else runs there meanwhile) and returns its figures. */
export async function argon2Verifications(pinning: Pinning, seconds: number): Promise<Argon2Result> {
  const child = await startChildServer<Argon2Result>(pinning, MAIN, { BENCH_ARGON2_SECONDS: String(seconds) });
  await child.stop();
  return child.ready;
}
