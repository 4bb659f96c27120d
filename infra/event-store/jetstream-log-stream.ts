/**
 * The JetStream stream that holds the log (default `IDP_LOG`) and the settings the store insists
 * on: file storage, no limits, `deny_delete` and `deny_purge` (an immutable log), and
 * `num_replicas` as configured (`EVENT_STORE_URL=nats://…?replicas=3`, default 1).
 *
 * A missing stream is created with them. An existing one is checked, because a stream made by hand
 * or by an older version may lack them, and fixed where nats-server allows it
 * (`configUpdateCheck` in server/stream.go, 2.9 and 2.10): turning `deny_delete` and `deny_purge`
 * on is allowed, turning them off is not; a clustered server changes the replica count. Two things
 * are refused instead, with what to do:
 * - fewer replicas than the stream has: lowering the log's durability is an operator's decision,
 *   not a side effect of a service started without `?replicas=`;
 * - more than one replica on a server that is not clustered: creating such a stream fails there
 *   (error 10074, "replicas > 1 not supported in non-clustered mode"), but an update is accepted and
 *   records a replica count that no server keeps, so the store checks this itself.
 */
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { Logger } from '../log/logger.js';
import { oldSchemeFilter } from './jetstream-subjects.js';

/** nats-server's StreamMaxReplicas. */
export const MAX_REPLICAS = 5;

/** nats-server's error codes (server/errors.json) that the setup tells apart. */
const STREAM_NAME_IN_USE = 10058;
const INSUFFICIENT_RESOURCES = 10023;
const REPLICAS_NOT_SUPPORTED = 10074;

export interface LogStreamSettings {
  name: string;
  /** The subject filter of the log, `<prefix>.>`. */
  subjects: string;
  replicas: number;
}

/** What an existing stream needs: a config update that names its changes, or a refusal. */
export type LogStreamPlan =
  | { kind: 'keep' }
  | { kind: 'update'; config: Partial<StreamConfig>; changes: string[] }
  | { kind: 'refuse'; reason: string };

/** The settings a stream must have, against what it has (`info` from STREAM.INFO). */
export function planLogStream(info: Pick<StreamInfo, 'config' | 'cluster'>, wanted: LogStreamSettings): LogStreamPlan {
  const { config } = info;
  const { name, replicas } = wanted;
  if (!config.subjects?.includes(wanted.subjects)) {
    return { kind: 'refuse', reason: `JetStream stream ${name} exists but does not take ${wanted.subjects} (it has ${config.subjects})` };
  }
  const has = config.num_replicas || 1;
  if (has > replicas) {
    return {
      kind: 'refuse',
      reason:
        `JetStream stream ${name} has ${has} replicas but ${replicas} ${replicas === 1 ? 'is' : 'are'} configured; the store does ` +
        `not lower the log's durability by itself. Set ?replicas=${has} in EVENT_STORE_URL, or scale the stream down ` +
        `yourself (nats stream edit ${name} --replicas ${replicas}).`,
    };
  }
  if (replicas > 1 && info.cluster === undefined) {
    return {
      kind: 'refuse',
      reason:
        `JetStream stream ${name}: ${replicas} replicas are configured but the NATS server is not clustered, so it ` +
        `keeps one copy. Run JetStream in a cluster of at least ${replicas} servers, or set ?replicas=1 in EVENT_STORE_URL.`,
    };
  }
  const update: Partial<StreamConfig> = {};
  const changes: string[] = [];
  if (!config.deny_delete) {
    update.deny_delete = true;
    changes.push('deny_delete: false -> true');
  }
  if (!config.deny_purge) {
    update.deny_purge = true;
    changes.push('deny_purge: false -> true');
  }
  if (has < replicas) {
    update.num_replicas = replicas;
    changes.push(`num_replicas: ${has} -> ${replicas}`);
  }
  return changes.length === 0 ? { kind: 'keep' } : { kind: 'update', config: update, changes };
}

/** Creates the log stream, or checks (and where allowed fixes) an existing one; see the file comment. */
export async function ensureLogStream(jsm: JetStreamManager, wanted: LogStreamSettings, log: Logger): Promise<void> {
  const { name, replicas } = wanted;
  if (!(Number.isInteger(replicas) && replicas >= 1 && replicas <= MAX_REPLICAS)) {
    throw new RangeError(`replicas must be an integer from 1 to ${MAX_REPLICAS}, got ${replicas}`);
  }
  let info = await streamInfo(jsm, name);
  if (info === null) {
    try {
      // Adding a stream that exists with the same configuration succeeds, so racing creators agree.
      await jsm.streams.add({
        name,
        subjects: [wanted.subjects],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        max_msgs: -1,
        max_bytes: -1,
        max_age: 0,
        num_replicas: replicas,
        deny_delete: true,
        deny_purge: true,
      });
      return;
    } catch (error) {
      // Another creator got there first with other settings: check what it made, as below.
      if (!(error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE)) {
        throw new Error(`could not create JetStream stream ${name} with ${replicas} replica(s): ${describe(error)}${hint(error)}`, {
          cause: error,
        });
      }
      info = await streamInfo(jsm, name);
      if (info === null) throw error;
    }
  }

  const plan = planLogStream(info, wanted);
  if (plan.kind === 'keep') return;
  if (plan.kind === 'refuse') throw new Error(plan.reason);
  try {
    await jsm.streams.update(name, { ...info.config, ...plan.config });
  } catch (error) {
    throw new Error(
      `JetStream stream ${name} lacks ${plan.changes.join(', ')} and nats-server refused to update it: ${describe(error)}. ` +
        `Update it by hand (nats stream edit ${name}), or recreate it.`,
      { cause: error },
    );
  }
  log.warn({ stream: name, changes: plan.changes }, 'JetStream log stream updated to the settings the event store needs');
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | null> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return null;
    throw error;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What to do about the refusals an operator can fix by configuration. */
function hint(error: unknown): string {
  if (!(error instanceof JetStreamApiError)) return '';
  if (error.code === REPLICAS_NOT_SUPPORTED) {
    return '. This NATS server is not clustered: set ?replicas=1 in EVENT_STORE_URL, or run JetStream in a cluster.';
  }
  if (error.code === INSUFFICIENT_RESOURCES) {
    return '. The cluster has fewer JetStream servers (or less storage) than the replicas need: lower ?replicas= or add servers.';
  }
  return '';
}

/**
 * A log that still holds subjects of the older scheme `<prefix>.<token>` would be read only in
 * part (its streams look empty): refuse it, saying how to move on (README, "Distributed mode").
 */
export async function refuseOldSubjectScheme(jsm: JetStreamManager, streamName: string, subjectPrefix: string): Promise<void> {
  const filter = oldSchemeFilter(subjectPrefix);
  const info = await jsm.streams.info(streamName, { subjects_filter: filter });
  const old = Object.keys(info.state.subjects ?? {});
  if (old.length === 0) return;
  throw new Error(
    `JetStream stream ${streamName} holds ${old.length} event stream(s) under the old subject scheme ${filter} ` +
      `(e.g. ${old[0]}); this version writes ${subjectPrefix}.<aggregate>.<stream>. Export the log and import it into a ` +
      `fresh stream, or start with a fresh one (README, "Log subjects, and moving an older log").`,
  );
}
