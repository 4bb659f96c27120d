import { userInfo } from 'node:os';
import { z } from 'zod';
import { TenantId } from '../../contracts/tenant.js';
import { BusUrl, EventStoreUrl } from '../../infra/config/adapter-urls.js';
import { OptionalKek } from '../shared/adapters/service-config.js';
import { NatsCredentialsEnv } from '../../infra/bus/nats-connection-options.js';

/**
 * What `idp` reads from the environment: the same variables as the servers, so that the command
 * line pointed at a deployment's configuration reaches the same log and the same bus.
 *
 * - Embedded (BUS_URL unset or `inproc:`): the log is `EVENT_STORE_URL` (default the embedded
 *   server's `sqlite:./data/idp.db`), the KEK and the data keys are in `IDP_DATA_DIR`.
 * - Distributed (BUS_URL `nats://…`): administrative commands go over NATS as the `admin`
 *   identity (`IDP_NATS_SEED` is the admin's seed from `secrets.json`); reads go to the store.
 */
export const CliEnv = z.object({
  EVENT_STORE_URL: z.string().default('sqlite:./data/idp.db').pipe(EventStoreUrl),
  BUS_URL: z.string().default('inproc:').pipe(BusUrl),
  IDP_DATA_DIR: z.string().default('./data'),
  IDP_TENANT: TenantId.default('default'),
  /** The KEK as the server has it (base64url); unset: the file `<IDP_DATA_DIR>/kek`, which must exist. */
  IDP_KEK: OptionalKek,
  /** Who the events of an administrative command name as their actor (`admin:<id>`); default the login name. */
  IDP_ADMIN_ACTOR: z
    .string()
    .min(1)
    .max(256)
    .default(() => safeUserName()),
  ...NatsCredentialsEnv.shape,
});
export type CliEnv = z.infer<typeof CliEnv>;

function safeUserName(): string {
  try {
    return userInfo().username || 'admin';
  } catch {
    return 'admin';
  }
}

export function parseCliEnv(env: NodeJS.ProcessEnv): CliEnv {
  const parsed = CliEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`).join('\n');
    throw new Error(`invalid configuration:\n${problems}`);
  }
  return parsed.data;
}
