import type { Command } from 'commander';
import { existsSync, unlinkSync } from 'node:fs';
import { LogEvent } from '../../../contracts/events/log.js';
import { OAuthError } from '../../../contracts/oauth-error.js';
import { streams } from '../../../contracts/streams.js';
import { EventStoreUrl } from '../../../infra/config/adapter-urls.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import { ArchiveChangedError, deleteArchivedStreams } from '../../../infra/event-store/sqlite-archive.js';
import { SqliteEventStore } from '../../../infra/event-store/sqlite.js';
import { handleCommand } from '../../shared/app/command-handler.js';
import { SubsetDigest } from '../../shared/integrity/archive-digest.js';
import { logSealDecider } from '../../token-issuer/domain/log-seal/log-seal.js';
import { adminRequestContext } from '../admin-session.js';
import { planArchive, writeArchiveFile } from '../archive/archive-plan.js';
import { parseCliEnv } from '../cli-env.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { verifyLogAndSeals } from '../integrity/verify-run.js';
import { printJson, renderRecord } from '../output.js';

/**
 * `idp archive --before-seal POSITION --out FILE` (SQLite logs): moves the business that has
 * ended and that the seal at POSITION covers (archive/ended-business.ts) into FILE and deletes it
 * from the log, recording the cut as a `log.archived` event in the same transaction. Users,
 * clients, the keyring, consents and whatever still lives stay, so the server runs on as before,
 * and `idp verify` checks what stayed against the record. Refused on a log that does not verify.
 */
export function registerArchive(program: Command, ctx: CliContext): void {
  program
    .command('archive')
    .description('move ended business (expired grants, ended sessions, old logins, done logouts) before a seal into an archive file (SQLite logs)')
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
      if (!existsSync(url.data.path)) throw new CliError(EXIT.notFound, `no log at ${url.data.path} (EVENT_STORE_URL)`);
      const actor = parseCliEnv(ctx.env).IDP_ADMIN_ACTOR;

      const store = SqliteEventStore.open(url.data.path);
      let fileWritten = false;
      try {
        // Never archive what does not verify: the cut would hide the evidence.
        const report = await verifyLogAndSeals(store, { tenant: ctx.tenant });
        if (!report.ok) throw new CliError(EXIT.failed, `the log does not verify (broken at position ${report.firstBrokenPosition}); run idp verify, archive nothing`);
        const plan = await planArchive(store, { tenant: ctx.tenant, sealPosition, endedBefore: ctx.now() });
        const written = await writeArchiveFile(store, plan, options.out, ctx.now());
        fileWritten = true;
        const archive = { sealPosition, upToPosition: plan.upToPosition, endedBefore: plan.endedBefore.toISOString(), ...written };

        const cutting: EventStore = withCutOnAppend(store, (db) =>
          deleteArchivedStreams(db, {
            upToPosition: plan.upToPosition,
            streams: plan.streams.keys(),
            checkRows: (rows) => {
              const found = new SubsetDigest('archived');
              for (const row of rows) found.add(row);
              const { events, digest } = found.value();
              if (events !== archive.archived.events || digest !== archive.archived.digest) {
                throw new ArchiveChangedError(`the log holds ${events} events of the planned streams, the archive file ${archive.archived.events} (or other ones); run idp archive again`);
              }
            },
          }),
        );
        const handled = await handleCommand(
          { store: cutting, service: 'token-issuer', clock: ctx.now },
          { streamName: streams.log(ctx.tenant), decider: logSealDecider, schema: LogEvent, command: { type: 'record_archive', archive }, ctx: adminRequestContext(ctx.tenant, actor), maxAttempts: 3 },
        ).catch((error: unknown) => {
          if (error instanceof ArchiveChangedError) throw new CliError(EXIT.refused, error.message);
          throw error;
        });
        if (handled.decision.rejection) throw new CliError(EXIT.refused, (handled.decision.rejection as OAuthError).description ?? 'refused');
        fileWritten = false; // the file is the archive now: keep it whatever follows
        const recorded = handled.appended[0]!;
        const summary = { ...archive, file: options.out, recordedAt: recorded.position };
        if (options.json) {
          printJson(ctx.stdout, summary);
          return;
        }
        const byAggregate = Object.entries(archive.archived.streams).map(([aggregate, n]) => `${aggregate} ${n}`).join(', ');
        ctx.stdout.write(
          renderRecord([
            ['archived', `${archive.archived.events} events of ${byAggregate === '' ? 'no streams' : byAggregate}, ended before ${archive.endedBefore}`],
            ['into', `${options.out} (sha256 ${archive.fileSha256})`],
            ['kept', `${archive.kept.events} events up to position ${plan.upToPosition} (users, clients, keys, consents, seals, what still lives)`],
            ['recorded', `log.archived at position ${recorded.position}, vouched for by the next seal`],
          ]),
        );
      } finally {
        if (fileWritten && existsSync(options.out)) unlinkSync(options.out);
        await store.close();
      }
    });
}

/** The store, with `alsoInTransaction` run inside the write transaction of its appends. */
function withCutOnAppend(store: SqliteEventStore, alsoInTransaction: Parameters<SqliteEventStore['appendWith']>[3]): EventStore {
  return {
    append: (streamName, events, expected) => store.appendWith(streamName, events, expected, alsoInTransaction),
    readStream: (streamName) => store.readStream(streamName),
    readAll: (options) => store.readAll(options),
    subscribeToAll: (handler, options) => store.subscribeToAll(handler, options),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
