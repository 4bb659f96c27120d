import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { LogCheckpointSealedV1 } from '../../../contracts/events/log.js';
import { parseStreamName, streams } from '../../../contracts/streams.js';
import { EventStoreUrl } from '../../../infra/config/adapter-urls.js';
import { cutSqliteLog } from '../../../infra/event-store/sqlite-archive.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { verifyLogAndSeals } from '../integrity/verify-run.js';
import { printJson, renderRecord } from '../output.js';
import { readLog } from '../read-log.js';

/**
 * `idp archive --before-seal POSITION --out FILE` (SQLite logs): moves every event the seal at
 * POSITION covers into FILE (raw records, JSON lines) and deletes them from the log, so that
 * the log starts right after that seal's position. `idp verify` then starts from the seal's
 * running hash (the seal itself stays, signed) and takes up the streams that continue from
 * before the cut. Refused on a log that does not verify, or at a position that is not a seal.
 */
export function registerArchive(program: Command, ctx: CliContext): void {
  program
    .command('archive')
    .description('cut the log before a seal: move the events it covers into an archive file (SQLite logs; stop the server first)')
    .requiredOption('--before-seal <position>', 'the $all position of a log.checkpoint_sealed event (idp export --type log.checkpoint_sealed)')
    .requiredOption('--out <file>', 'the archive file to create (JSON lines: a header, then every archived record whole)')
    .option('--json', 'print the summary as JSON')
    .action(async (options: { beforeSeal: string; out: string; json?: boolean }) => {
      if (!/^\d+$/.test(options.beforeSeal)) throw new CliError(EXIT.usage, '--before-seal must be a $all position (a whole number)');
      const sealPosition = Number(options.beforeSeal);
      const url = EventStoreUrl.safeParse(ctx.env.EVENT_STORE_URL ?? 'sqlite:./data/idp.db');
      if (!url.success || url.data.kind !== 'sqlite') {
        throw new CliError(EXIT.usage, 'idp archive cuts SQLite logs only (EVENT_STORE_URL=sqlite:…); JetStream and KurrentDB keep their own retention');
      }
      if (existsSync(options.out)) throw new CliError(EXIT.usage, `${options.out} exists already; the archive file must be new`);

      const store = await ctx.openLog();
      let plan: { upToPosition: number; runningHash: string; eventCount: number; sealEventHash: string; continuing: Map<string, number>; archived: number };
      try {
        const [seal] = await store.readAll({ after: sealPosition - 1, limit: 1 });
        if (!seal || seal.position !== sealPosition || seal.type !== LogCheckpointSealedV1.shape.type.value || seal.streamName !== streams.log(ctx.tenant)) {
          throw new CliError(EXIT.notFound, `no seal of tenant ${ctx.tenant} at position ${sealPosition} (idp export --type log.checkpoint_sealed lists them)`);
        }
        const statement = LogCheckpointSealedV1.shape.data.parse(seal.data);
        // Never archive what does not verify: the cut would hide the evidence.
        const report = await verifyLogAndSeals(store, { tenant: ctx.tenant });
        if (!report.ok) throw new CliError(EXIT.failed, `the log does not verify (broken at position ${report.firstBrokenPosition}); run idp verify, archive nothing`);
        // The remaining log must begin with this seal: no other seal of the tenant between what it covers and itself.
        const { events: seals } = await store.readStream(streams.log(ctx.tenant));
        const between = seals.filter((s) => s.position > statement.upToPosition && s.position < sealPosition);
        if (between.length > 0) {
          throw new CliError(EXIT.usage, `the seal at ${between[0]!.position} stands between position ${statement.upToPosition} and this seal; archive before that seal, or a later one`);
        }
        const before = new Set<string>();
        const continuing = new Map<string, number>();
        let archived = 0;
        for await (const event of readLog(store)) {
          if (event.position <= statement.upToPosition) {
            before.add(event.streamName);
            archived++;
          } else if (before.has(event.streamName)) {
            before.delete(event.streamName);
            const aggregate = parseStreamName(event.streamName)?.aggregate ?? '?';
            continuing.set(aggregate, (continuing.get(aggregate) ?? 0) + 1);
          }
        }
        plan = { upToPosition: statement.upToPosition, runningHash: statement.runningHash, eventCount: statement.eventCount, sealEventHash: seal.hash, continuing, archived };
      } finally {
        await store.close();
      }

      const cut = cutSqliteLog(url.data.path, plan.upToPosition, options.out, {
        tenant: ctx.tenant,
        sealPosition,
        sealEventHash: plan.sealEventHash,
        runningHash: plan.runningHash,
        eventCount: plan.eventCount,
        archivedAt: ctx.now().toISOString(),
      });
      const summary = {
        archived: cut.archived,
        upToPosition: plan.upToPosition,
        sealPosition,
        file: options.out,
        sha256: cut.sha256,
        continuingStreams: Object.fromEntries([...plan.continuing].sort()),
      };
      if (options.json) {
        printJson(ctx.stdout, summary);
        return;
      }
      const continuing = [...plan.continuing].sort().map(([aggregate, n]) => `${aggregate} ${n}`).join(', ');
      ctx.stdout.write(
        renderRecord([
          ['archived', `${cut.archived} events, positions up to ${plan.upToPosition}`],
          ['into', `${options.out} (sha256 ${cut.sha256})`],
          ['the log starts', `after position ${plan.upToPosition}, vouched for by the seal at ${sealPosition}`],
          ['continuing streams', continuing === '' ? 'none' : `${continuing} (their earlier events are in the archive only)`],
        ]),
      );
    });
}
