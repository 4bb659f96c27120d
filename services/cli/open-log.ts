import { existsSync } from 'node:fs';
import { credentialsFromEnv, natsConnectionOptions } from '../../infra/bus/nats-connection-options.js';
import { JetStreamEventStore } from '../../infra/event-store/jetstream.js';
import { KurrentDbEventStore } from '../../infra/event-store/kurrentdb.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { readOnlyView } from '../../infra/event-store/read-only.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import type { CliEnv } from './cli-env.js';
import { CliError, EXIT } from './exit-codes.js';

/**
 * Opens the log `EVENT_STORE_URL` names, read-only (DESIGN §9): SQLite opened read-only by
 * SQLite itself, JetStream without creating or touching the stream (as the `admin` NATS
 * identity, which may read the log and nothing more of it), KurrentDB behind a view that
 * refuses appends.
 */
export async function openLogFromEnv(env: CliEnv): Promise<EventStore> {
  const url = env.EVENT_STORE_URL;
  switch (url.kind) {
    case 'memory':
      throw new CliError(EXIT.usage, 'EVENT_STORE_URL=memory: lives only inside the server process; point idp at a sqlite:, nats:// or kurrentdb:// log');
    case 'sqlite':
      if (!existsSync(url.path)) throw new CliError(EXIT.notFound, `no log at ${url.path} (EVENT_STORE_URL)`);
      return readOnlyView(SqliteEventStore.openReadOnly(url.path));
    case 'jetstream':
      return unavailableUnless(
        JetStreamEventStore.connect(url.url, {
          readOnly: true,
          connection: natsConnectionOptions(url.url, credentialsFromEnv('admin', env)),
        }),
        'the JetStream log',
      );
    case 'kurrentdb':
      return readOnlyView(KurrentDbEventStore.connect(url.url));
  }
}

async function unavailableUnless<T>(opening: Promise<T>, what: string): Promise<T> {
  try {
    return await opening;
  } catch (error) {
    throw new CliError(EXIT.unavailable, `cannot open ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
