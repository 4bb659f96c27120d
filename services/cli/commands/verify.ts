import type { Command } from 'commander';
import { readAnchorFile, type LogAnchor } from '../../shared/integrity/anchor.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { verifyLogAndSeals, type VerifyRunReport } from '../integrity/verify-run.js';
import { printJson, renderRecord } from '../output.js';
import { startProgress } from '../progress.js';

/**
 * `idp verify [--anchor FILE] [--json]` (DESIGN §4, tamper evidence): every stream's hash
 * chain, the running hash of `$all` against every sealed checkpoint (and its signature, its key,
 * its chain), and with `--anchor` that the log still reaches the seal kept outside the store.
 * Exits 1 at any break, naming the first broken position.
 */
export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('check every hash chain, the sealed checkpoints and (with --anchor) that the log still reaches the latest seal kept outside the store')
    .option('--anchor <file>', 'the anchor file the sealer writes (IDP_LOG_ANCHOR_FILE; embedded: <IDP_DATA_DIR>/log-anchor.json)')
    .option('--json', 'print the report as JSON, with every failure')
    .action(async (options: { anchor?: string; json?: boolean }) => {
      let anchor: LogAnchor | undefined;
      if (options.anchor !== undefined) {
        try {
          anchor = readAnchorFile(options.anchor);
        } catch (error) {
          throw new CliError(EXIT.usage, (error as Error).message);
        }
        if (anchor.tenant !== ctx.tenant) throw new CliError(EXIT.usage, `the anchor is of tenant ${anchor.tenant}, IDP_TENANT is ${ctx.tenant}`);
      }
      const store = await ctx.openLog();
      const progress = startProgress(ctx, 'verify');
      let report: VerifyRunReport;
      try {
        report = await verifyLogAndSeals(store, { tenant: ctx.tenant, anchor, onProgress: (done) => progress.update(done, done) });
      } finally {
        progress.stop();
        await store.close();
      }
      if (options.json) printJson(ctx.stdout, report);
      else ctx.stdout.write(humanReport(report));
      if (!report.ok) {
        throw new CliError(EXIT.failed, `the log is broken at position ${report.firstBrokenPosition} (${report.failureCount} failure${report.failureCount === 1 ? '' : 's'})`);
      }
    });
}

function humanReport(report: VerifyRunReport): string {
  const { seals } = report;
  const entries: Array<[string, unknown]> = [
    ['events', `${report.eventsChecked} in ${report.streamsChecked} streams, up to position ${report.lastPosition}`],
    ['seals', seals.lastSeal
      ? `${seals.sealsChecked} checked; the last at position ${seals.lastSeal.position} covers up to ${seals.lastSeal.upToPosition} (key ${seals.lastSeal.keyId})`
      : 'none yet (the sealer writes one every IDP_LOG_SEAL_INTERVAL)'],
    ['not sealed yet', `${seals.eventsAfterLastSeal} event${seals.eventsAfterLastSeal === 1 ? '' : 's'} after the last seal's position`],
  ];
  if (seals.archiveCut) {
    const cut = seals.archiveCut;
    entries.push(['archived', `ended business up to position ${cut.upToPosition} (log.archived at ${cut.recordPosition}); ${cut.keptEvents} events kept before the cut, held to its digest`]);
  }
  entries.push(['anchor', seals.anchor
    ? seals.anchor.reached ? `the log reaches the anchored seal at position ${seals.anchor.sealPosition}` : `the anchored seal at position ${seals.anchor.sealPosition} is missing`
    : 'not given (--anchor FILE also catches a log cut short)']);
  entries.push(['running hash', seals.runningHash]);
  let text = renderRecord(entries);
  if (report.ok) return `${text}OK\n`;
  const first = report.failures[0]!;
  const place = first.streamName ? ` (${first.streamName}${first.streamIndex === null ? '' : `#${first.streamIndex}`})` : '';
  text += `BROKEN at position ${first.position}${place}: ${first.reason}: ${first.detail}\n`;
  const byReason = new Map<string, number>();
  for (const failure of report.failures) byReason.set(failure.reason, (byReason.get(failure.reason) ?? 0) + 1);
  text += `${report.failureCount} failure${report.failureCount === 1 ? '' : 's'} in all: ${[...byReason].map(([reason, n]) => `${reason} ${n}`).join(', ')} (--json lists them)\n`;
  return text;
}
