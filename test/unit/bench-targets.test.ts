import type { LoadResult } from '../bench/load.js';
import type { BenchReport, Outcome } from '../bench/report.js';
import { checkTwoRuns, evaluateTargets, renderCheck } from '../bench/targets-check.js';

/** `npm run bench -- --check` (issue 12): which targets a report meets; no test here measures speed. */
const load = (perSecond: number, more: Partial<LoadResult> = {}): Outcome<LoadResult> => ({
  status: 'ok',
  result: { count: 1000, errors: 0, seconds: 1000 / perSecond, perSecond, p50: 5, p99: 9, truncated: false, ...more },
});
const history = (firstMs: number, afterMs: number) => ({ status: 'ok' as const, result: { firstMs, afterMs, history: 10_000, historySeconds: 40 } });

function report(overrides: { ours?: Record<string, Outcome<LoadResult>>; distributed?: Record<string, Outcome<LoadResult>> } = {}): BenchReport {
  const ours: Record<string, Outcome<LoadResult>> = {
    'client-credentials': load(3000),
    'client-credentials-open-loop': load(2000, { p99: 8 }),
    introspection: load(7000),
    refresh: load(1500),
    'code-flow-many-users': load(35),
    'code-flow-one-user': load(30),
    ...overrides.ours,
  };
  const theirs: Record<string, number> = { 'client-credentials': 1400, introspection: 2300, refresh: 950, 'code-flow-many-users': 30, 'code-flow-one-user': 30 };
  const distributed: Record<string, Outcome<LoadResult>> = { 'client-credentials': load(1600), introspection: load(3600), ...overrides.distributed };
  return {
    date: '2026-11-30T10:00:00.000Z',
    machine: { nproc: 2, cpu: 'test', node: 'v20', commit: 'abc', oidcProvider: '8.8.1' },
    loadAverage: { start: 0.1 },
    pinning: { pinned: true, serverCore: 0, loadCore: 1 },
    options: {} as BenchReport['options'],
    scenarios: Object.keys(ours).map((id) => ({
      id,
      title: id,
      unit: 'request' as const,
      sides: {
        ours: ours[id],
        ...(theirs[id] !== undefined ? { 'oidc-provider': load(theirs[id]!) } : {}),
        ...(distributed[id] !== undefined ? { 'ours-distributed': distributed[id] } : {}),
      },
    })),
    argon2: { status: 'ok', result: { perSecond: 40, p50: 22, p99: 100, count: 200, errors: 0, seconds: 5, parameters: { memoryCost: 19456, timeCost: 2, parallelism: 1 } } as never },
    refreshAfterRotations: { ours: history(4, 4.2) },
    loginAfterLogins: history(2, 1),
  };
}

const met = (r: BenchReport) => Object.fromEntries(evaluateTargets(r).map((v) => [v.id, v.met]));

describe('bench targets (issue 12)', () => {
  it('a report at every target meets them all', () => {
    expect(Object.values(met(report())).every(Boolean)).toBe(true);
    expect(evaluateTargets(report()).map((v) => v.id)).toEqual([
      'client-credentials',
      'introspection',
      'refresh',
      'code-flow-many-users',
      'code-flow-one-user',
      'client-credentials-open-loop',
      'distributed-client-credentials',
      'distributed-introspection',
      'refresh-after-rotations',
      'login-after-logins',
    ]);
  });

  it('misses each ratio just below its bound, and any target with errors or without a figure', () => {
    expect(met(report({ ours: { 'client-credentials': load(2799) } }))['client-credentials']).toBe(false);
    expect(met(report({ ours: { introspection: load(6899) } })).introspection).toBe(false);
    expect(met(report({ ours: { refresh: load(1420) } })).refresh).toBe(false);
    expect(met(report({ ours: { refresh: load(1500, { errors: 1 }) } })).refresh).toBe(false);
    expect(met(report({ ours: { 'code-flow-many-users': load(31.9) } }))['code-flow-many-users']).toBe(false);
    expect(met(report({ ours: { 'code-flow-one-user': load(27.9) } }))['code-flow-one-user']).toBe(false);
    expect(met(report({ ours: { 'code-flow-one-user': load(35, { errors: 1 }) } }))['code-flow-one-user']).toBe(false);
    expect(met(report({ ours: { 'client-credentials-open-loop': load(2000, { p99: 10.5 }) } }))['client-credentials-open-loop']).toBe(false);
    expect(met(report({ ours: { 'client-credentials-open-loop': load(2000, { errors: 3 }) } }))['client-credentials-open-loop']).toBe(false);
    expect(met(report({ distributed: { introspection: load(3400) } }))['distributed-introspection']).toBe(false);
    expect(met(report({ ours: { introspection: { status: 'failed', reason: 'boom' } } })).introspection).toBe(false);
    const noDistributed = report();
    for (const s of noDistributed.scenarios) delete s.sides['ours-distributed'];
    expect(met(noDistributed)['distributed-client-credentials']).toBe(false);
    const slowerAfter = { ...report(), refreshAfterRotations: { ours: history(4, 4.5) } };
    expect(met(slowerAfter)['refresh-after-rotations']).toBe(false);
  });

  it('counts a target as met only when the run before met it too', () => {
    const good = report();
    const bad = report({ ours: { refresh: load(1000) } });
    expect(checkTwoRuns(good, good).ok).toBe(true);
    const once = checkTwoRuns(good, bad);
    expect(once.ok).toBe(false);
    expect(once.verdicts.find((v) => v.id === 'refresh')).toMatchObject({ met: true, previouslyMet: false });
    expect(checkTwoRuns(good, undefined).ok).toBe(false);
    expect(renderCheck(once)).toContain('MISSED (not met in this run and the one before): refresh');
  });

  it('gives the floor\'s figure where the floor ran, and names the targets even the floor missed', () => {
    const withFloor = report();
    const floor: Record<string, Outcome<LoadResult>> = {
      'client-credentials': load(2500), // 1.79× oidc-provider's 1400: below the 2× wanted
      introspection: load(7000), // 3.04× its 2300
      'client-credentials-open-loop': load(2000, { p99: 12 }),
    };
    for (const s of withFloor.scenarios) if (floor[s.id]) s.sides.floor = floor[s.id];
    const verdicts = Object.fromEntries(evaluateTargets(withFloor).map((v) => [v.id, v]));
    expect(verdicts['client-credentials']!.floor).toEqual({ measured: '2500.0/s: 1.79×', reached: false });
    expect(verdicts.introspection!.floor).toEqual({ measured: '7000.0/s: 3.04×', reached: true });
    expect(verdicts['client-credentials-open-loop']!.floor).toEqual({ measured: 'p99 12.0 ms, 0 errors', reached: false });
    expect(verdicts.refresh!.floor).toBeUndefined();
    // The floor informs; it changes no verdict: ours met these in the report above.
    expect(verdicts['client-credentials']!.met).toBe(true);
    const rendered = renderCheck(checkTwoRuns(withFloor, withFloor));
    expect(rendered).toContain('every target met in two runs in a row');
    expect(rendered).toContain('beyond the floor in this run (no server keeping our guarantees would have met them here): client-credentials, client-credentials-open-loop');
    expect(renderCheck(checkTwoRuns(report(), report()))).not.toContain('beyond the floor');
  });
});
