import type { LoadResult } from './load.js';
import type { BenchReport, Outcome } from './report.js';
import type { HistoryCost } from './scenarios/history.js';

/**
 * The targets of issue 12, checked by `npm run bench -- --check`: each is met only when it holds
 * in this run and in the run before it (bench/last-run.json as it was), since on this noisy
 * machine one run proves little. A target without a figure (not measured, not available,
 * failed) is missed. Pure functions over reports, so they are unit-tested
 * (test/unit/bench-targets.test.ts).
 */
export interface TargetVerdict {
  id: string;
  target: string;
  /** What this run measured, in words. */
  measured: string;
  met: boolean;
  /**
   * The floor's figure in this run, where it ran and the target has one (floor-main.ts: the
   * least work with our guarantees and nothing else): what the machine allowed any server.
   */
  floor?: { measured: string; /** Whether even the floor reached the target. */ reached: boolean };
}

type Side = Outcome<LoadResult> | undefined;

const ok = (side: Side): LoadResult | undefined => (side?.status === 'ok' ? side.result : undefined);
const scenario = (report: BenchReport, id: string) => report.scenarios.find((s) => s.id === id);
const fmt = (n: number, digits = 2) => n.toFixed(digits);

function ratioTarget(report: BenchReport, id: string, minimum: number): TargetVerdict {
  const target = `ours ≥ ${minimum}× oidc-provider's requests/s, no error`;
  const s = scenario(report, id);
  const ours = ok(s?.sides.ours);
  const theirs = ok(s?.sides['oidc-provider']);
  const floor = ok(s?.sides.floor);
  const floorVerdict =
    floor && theirs && theirs.perSecond > 0
      ? { floor: { measured: `${fmt(floor.perSecond, 1)}/s: ${fmt(floor.perSecond / theirs.perSecond)}×`, reached: floor.perSecond >= minimum * theirs.perSecond } }
      : {};
  if (!ours || !theirs || theirs.perSecond <= 0) return { id, target, measured: 'not measured', met: false, ...floorVerdict };
  const r = ours.perSecond / theirs.perSecond;
  return {
    id,
    target,
    measured: `${fmt(ours.perSecond, 1)}/s vs ${fmt(theirs.perSecond, 1)}/s: ${fmt(r)}×${ours.errors > 0 ? `, ${ours.errors} errors` : ''}`,
    met: r >= minimum && ours.errors === 0,
    ...floorVerdict,
  };
}

function historyTarget(id: string, side: Outcome<HistoryCost> | undefined): TargetVerdict {
  const target = 'after 10,000 ≤ 1.1× the first (median ms)';
  if (side?.status !== 'ok') return { id, target, measured: side ? side.status : 'not measured', met: false };
  const r = side.result.afterMs / side.result.firstMs;
  return { id, target, measured: `${fmt(side.result.firstMs)} ms first, ${fmt(side.result.afterMs)} ms after: ${fmt(r)}×`, met: r <= 1.1 };
}

export function evaluateTargets(report: BenchReport): TargetVerdict[] {
  const verdicts = [
    ratioTarget(report, 'client-credentials', 2),
    ratioTarget(report, 'introspection', 3),
    ratioTarget(report, 'refresh', 1.5),
  ];

  const argon2 = report.argon2?.status === 'ok' ? report.argon2.result.perSecond : undefined;
  const many = ok(scenario(report, 'code-flow-many-users')?.sides.ours);
  verdicts.push(
    many && argon2
      ? {
          id: 'code-flow-many-users',
          target: '≥ 80 % of the argon2id ceiling on the same core, no error',
          measured: `${fmt(many.perSecond, 1)} flows/s, argon2id ${fmt(argon2, 1)}/s: ${fmt((100 * many.perSecond) / argon2, 0)} %`,
          met: many.perSecond >= 0.8 * argon2 && many.errors === 0,
        }
      : { id: 'code-flow-many-users', target: '≥ 80 % of the argon2id ceiling', measured: 'not measured', met: false },
  );
  const one = ok(scenario(report, 'code-flow-one-user')?.sides.ours);
  verdicts.push(
    one && many
      ? {
          id: 'code-flow-one-user',
          target: 'no error; ≥ 80 % of the many-users figure',
          measured: `${fmt(one.perSecond, 1)} flows/s (${fmt((100 * one.perSecond) / many.perSecond, 0)} %), ${one.errors} errors`,
          met: one.errors === 0 && one.perSecond >= 0.8 * many.perSecond,
        }
      : { id: 'code-flow-one-user', target: 'no error; ≥ 80 % of the many-users figure', measured: 'not measured', met: false },
  );
  const openLoop = scenario(report, 'client-credentials-open-loop');
  const open = ok(openLoop?.sides.ours);
  const openFloor = ok(openLoop?.sides.floor);
  const openMet = (side: LoadResult | undefined) => side !== undefined && side.p99 <= 10 && side.errors === 0;
  verdicts.push({
    id: 'client-credentials-open-loop',
    target: 'p99 ≤ 10 ms, no error',
    measured: open ? `p99 ${fmt(open.p99, 1)} ms, p50 ${fmt(open.p50, 1)} ms, ${open.errors} errors` : 'not measured',
    met: openMet(open),
    ...(openFloor ? { floor: { measured: `p99 ${fmt(openFloor.p99, 1)} ms, ${openFloor.errors} errors`, reached: openMet(openFloor) } } : {}),
  });
  for (const id of ['client-credentials', 'introspection']) {
    const embedded = ok(scenario(report, id)?.sides.ours);
    const distributed = ok(scenario(report, id)?.sides['ours-distributed']);
    verdicts.push({
      id: `distributed-${id}`,
      target: '≥ 50 % of embedded requests/s',
      measured: embedded && distributed ? `${fmt(distributed.perSecond, 1)}/s vs ${fmt(embedded.perSecond, 1)}/s: ${fmt((100 * distributed.perSecond) / embedded.perSecond, 0)} %` : 'not measured',
      met: embedded !== undefined && distributed !== undefined && distributed.perSecond >= 0.5 * embedded.perSecond && distributed.errors === 0,
    });
  }
  verdicts.push(historyTarget('refresh-after-rotations', report.refreshAfterRotations.ours));
  verdicts.push(historyTarget('login-after-logins', report.loginAfterLogins));
  return verdicts;
}

/** This run's verdicts, each met only if the previous run met it too. */
export function checkTwoRuns(current: BenchReport, previous: BenchReport | undefined): { verdicts: Array<TargetVerdict & { previouslyMet: boolean }>; ok: boolean } {
  const before = new Map((previous ? evaluateTargets(previous) : []).map((v) => [v.id, v.met]));
  const verdicts = evaluateTargets(current).map((v) => ({ ...v, previouslyMet: before.get(v.id) ?? false }));
  return { verdicts, ok: verdicts.every((v) => v.met && v.previouslyMet) };
}

export function renderCheck(check: ReturnType<typeof checkTwoRuns>): string {
  const lines = ['| target | wanted | this run | this run met | run before met | the floor, this run |', '|---|---|---|---|---|---|'];
  for (const v of check.verdicts) {
    const floor = v.floor ? `${v.floor.measured}${v.floor.reached ? '' : ' (even the floor misses it)'}` : '—';
    lines.push(`| ${v.id} | ${v.target} | ${v.measured} | ${v.met ? 'yes' : 'NO'} | ${v.previouslyMet ? 'yes' : 'no'} | ${floor} |`);
  }
  const missed = check.verdicts.filter((v) => !(v.met && v.previouslyMet)).map((v) => v.id);
  lines.push('', missed.length === 0 ? 'every target met in two runs in a row' : `MISSED (not met in this run and the one before): ${missed.join(', ')}`);
  const beyond = check.verdicts.filter((v) => v.floor && !v.floor.reached).map((v) => v.id);
  if (beyond.length > 0) lines.push(`beyond the floor in this run (no server keeping our guarantees would have met them here): ${beyond.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
