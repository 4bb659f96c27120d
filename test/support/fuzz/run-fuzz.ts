import fc from 'fast-check';
import { describeRequest, sendRaw, type RawRequest, type RawResponse } from './raw-http.js';
import type { FuzzWorld } from './fuzz-world.js';

/**
 * The fuzz properties, run with a fixed seed (`FUZZ_SEED` overrides it, and `FUZZ_RUNS`
 * multiplies every run count, to search further by hand):
 * - no answer is a 5xx, and every request gets an answer (no hang, no dropped connection);
 * - a refused request (4xx) appends nothing to the log, but for the refusals that are facts
 *   themselves (`mayAppend`: a wrong password at the login form is `authentication.failed`);
 * - the server still answers `/healthz` afterwards.
 */
export interface FuzzOptions {
  seed: number;
  numRuns: number;
  /** Event types a refused request may append (default: none). */
  mayAppend?: (request: RawRequest, response: RawResponse) => string[];
}

const seedOverride = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const runsFactor = process.env.FUZZ_RUNS === undefined ? 1 : Number(process.env.FUZZ_RUNS);
/** `FUZZ_STATS=1` prints how often each status came back: how deep the fuzzer got. */
const printStats = process.env.FUZZ_STATS === '1';

/** Sends one request and checks the per-request properties; returns the response for more checks. */
export type CheckedSend = (request: RawRequest) => Promise<RawResponse>;

function checkedSender(world: FuzzWorld, options: Pick<FuzzOptions, 'mayAppend'>, statuses: Map<string, number>): CheckedSend {
  return async (request) => {
    const before = world.log.last();
    const response = await sendRaw(world.port, request);
    const key = `${request.method} ${String(request.target).split('?')[0]!.slice(0, 40)} ${response.status}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
    if (response.status >= 500) {
      throw new Error(`${response.status} ${response.body.slice(0, 300)}\n  to ${describeRequest(request)}`);
    }
    if (response.status >= 400) {
      const appended = world.log.typesAfter(before);
      const allowed = options.mayAppend?.(request, response) ?? [];
      const unexpected = appended.filter((type) => !allowed.includes(type));
      if (unexpected.length > 0) {
        throw new Error(`a refused request (${response.status}) appended ${unexpected.join(', ')}\n  to ${describeRequest(request)}`);
      }
    }
    return response;
  };
}

/**
 * Runs `scenario` on generated values with a fixed seed; every request it sends through `send`
 * is checked. Afterwards the server must still answer `/healthz`.
 */
export async function fuzzScenario<T>(
  world: FuzzWorld,
  values: fc.Arbitrary<T>,
  scenario: (value: T, send: CheckedSend) => Promise<void>,
  options: FuzzOptions,
): Promise<void> {
  const seed = seedOverride ?? options.seed;
  const statuses = new Map<string, number>();
  const send = checkedSender(world, options, statuses);
  try {
    await fc.assert(
      fc.asyncProperty(values, (value) => scenario(value, send)),
      { seed, numRuns: Math.max(1, Math.round(options.numRuns * runsFactor)) },
    );
  } catch (error) {
    // fast-check's message names seed and path too; this line is the one to copy.
    console.error(`fuzz failure: rerun with FUZZ_SEED=${seed}\n--- server output (last 4000 chars) ---\n${world.server.logs().slice(-4000)}`);
    throw error;
  }
  if (printStats) console.log([...statuses].sort().map(([key, n]) => `${key}: ${n}`).join('\n'));
  const health = await sendRaw(world.port, { method: 'GET', target: '/healthz', headers: [] });
  if (health.status !== 200) throw new Error(`the server no longer answers /healthz: ${health.status}`);
}

/** One hostile request per run, checked. */
export function fuzzEndpoint(world: FuzzWorld, requests: fc.Arbitrary<RawRequest>, options: FuzzOptions): Promise<void> {
  return fuzzScenario(world, requests, async (request, send) => void (await send(request)), options);
}
