/**
 * The NATS permissions of every identity of a deployment, derived from `contracts/` alone, so that
 * what the server lets a process do cannot drift from what the contracts say (issue 10, part 1):
 *
 * - a message's subject may be published by its `callers` (contracts/messages), and subscribed
 *   only by the service that serves it (its `queue`), only in that queue group;
 * - an aggregate's log subjects `idp.log.<aggregate>.>` may be published only by its owner
 *   (contracts/streams.ts STREAM_OWNERS), so an event is attributable to the service that wrote it;
 * - each identity reads its replies on its own inbox prefix `_INBOX_<identity>` and no other, so
 *   nobody can read another's replies; responders answer through `allow_responses` (one reply to a
 *   request they received), not by a right to publish on inboxes;
 * - the backends get the JetStream API subjects they use and no destructive one: stream info and
 *   create (never update, delete or purge), message get, and their own ephemeral consumers, on
 *   IDP_LOG, IDP_EVENTS and the KV buckets `idp_leases` (all backends: the event relay) and
 *   `idp_data_keys` (authn only). The gateway gets no JetStream at all;
 * - `admin` (the `idp` command line) calls what names it as a caller and reads the log and the
 *   live stream (`idp verify`, audits; never writes either);
 *   `events-reader` may subscribe to `idp.events.>` and publish nothing.
 */
import { ALL_MESSAGES } from '../../contracts/messages/index.js';
import type { Caller, MessageContract } from '../../contracts/messages/define.js';
import { STREAM_OWNERS, streams, type Aggregate } from '../../contracts/streams.js';
import type { ServiceName } from '../../contracts/events/metadata.js';
import { aggregatePrefixOf, aggregateSubjects } from '../event-store/jetstream-subjects.js';
import { JETSTREAM_NAMES, kvStreamOf } from './jetstream-names.js';

export const NATS_IDENTITIES = ['gateway', 'authn', 'client-registry', 'token-issuer', 'admin', 'events-reader'] as const;
export type NatsIdentity = (typeof NATS_IDENTITIES)[number];

export const BACKEND_IDENTITIES = ['authn', 'client-registry', 'token-issuer'] as const satisfies readonly ServiceName[];

/** What one identity may do, as nats-server's `permissions` block says it. */
export interface NatsPermissions {
  /** Subjects it may publish on; empty: none at all. */
  publish: string[];
  /** Subjects it may subscribe to; `"<subject> <queue>"` only in that queue group. */
  subscribe: string[];
  /** Whether it may reply to the requests it receives (once each). */
  allowResponses: boolean;
}

/** What the derivation reads: the contracts, replaceable for tests that change one. */
export interface PermissionSources {
  messages: readonly Pick<MessageContract<string, any, any>, 'subject' | 'queue' | 'callers'>[];
  streamOwners: Readonly<Record<Aggregate, ServiceName>>;
}

const CONTRACTS: PermissionSources = { messages: ALL_MESSAGES, streamOwners: STREAM_OWNERS };

/** The reply inbox prefix of an identity: its connections set `inboxPrefix` to it. */
export function inboxPrefixOf(identity: NatsIdentity): string {
  return `_INBOX_${identity}`;
}

/** The stream-name prefix of an aggregate (`refreshToken` → `refresh_token`), read from `streams`. */
export function streamPrefixOf(aggregate: Aggregate): string {
  const name = (streams[aggregate] as (...args: string[]) => string)('t', 'x', 'x');
  return aggregatePrefixOf(name);
}

const API = '$JS.API';

/** Reading a JetStream stream: info, message gets (direct too) and ephemeral consumers of its own. */
function jetStreamRead(stream: string): string[] {
  return [
    `${API}.STREAM.INFO.${stream}`,
    `${API}.STREAM.MSG.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}.>`,
    `${API}.CONSUMER.CREATE.${stream}`,
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.*`,
    `${API}.CONSUMER.DELETE.${stream}.*`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
  ];
}

/** Creating a stream that does not exist yet (creating one that exists with the same settings is a no-op). */
const jetStreamCreate = (stream: string) => [`${API}.STREAM.CREATE.${stream}`];

function kvBucket(bucket: string): string[] {
  const stream = kvStreamOf(bucket);
  return [...jetStreamRead(stream), ...jetStreamCreate(stream), `$KV.${bucket}.>`];
}

/** What a backend's JetStream adapters need: the log (read, create), the live stream and the relay's lease. */
function backendJetStream(service: ServiceName): string[] {
  const { log, events, eventSubjectPrefix, leasesBucket, dataKeysBucket } = JETSTREAM_NAMES;
  return [
    `${API}.INFO`,
    ...jetStreamRead(log),
    ...jetStreamCreate(log),
    ...jetStreamRead(events),
    ...jetStreamCreate(events),
    `${eventSubjectPrefix}.>`,
    ...kvBucket(leasesBucket),
    ...(service === 'authn' ? kvBucket(dataKeysBucket) : []),
  ];
}

function logPublish(service: ServiceName, sources: PermissionSources): string[] {
  return (Object.keys(sources.streamOwners) as Aggregate[])
    .filter((aggregate) => sources.streamOwners[aggregate] === service)
    .map((aggregate) => aggregateSubjects(JETSTREAM_NAMES.logSubjectPrefix, streamPrefixOf(aggregate)));
}

const callable = (caller: Caller, sources: PermissionSources) =>
  sources.messages.filter((m) => m.callers.includes(caller)).map((m) => m.subject);

const served = (service: ServiceName, sources: PermissionSources) =>
  sources.messages.filter((m) => m.queue === service).map((m) => `${m.subject} ${m.queue}`);

const isBackend = (identity: NatsIdentity): identity is (typeof BACKEND_IDENTITIES)[number] =>
  (BACKEND_IDENTITIES as readonly string[]).includes(identity);

const sorted = (subjects: string[]) => [...new Set(subjects)].sort();

export function natsPermissions(identity: NatsIdentity, sources: PermissionSources = CONTRACTS): NatsPermissions {
  const inbox = `${inboxPrefixOf(identity)}.>`;
  if (identity === 'events-reader') {
    return { publish: [], subscribe: [`${JETSTREAM_NAMES.eventSubjectPrefix}.>`], allowResponses: false };
  }
  if (identity === 'gateway') {
    return { publish: sorted(callable('gateway', sources)), subscribe: [inbox], allowResponses: false };
  }
  if (identity === 'admin') {
    return {
      publish: sorted([...callable('admin', sources), `${API}.INFO`, ...jetStreamRead(JETSTREAM_NAMES.log), ...jetStreamRead(JETSTREAM_NAMES.events)]),
      subscribe: [inbox],
      allowResponses: false,
    };
  }
  if (!isBackend(identity)) throw new Error(`unknown NATS identity ${identity satisfies never}`);
  return {
    publish: sorted([...callable(identity, sources), ...logPublish(identity, sources), ...backendJetStream(identity)]),
    subscribe: sorted([...served(identity, sources), inbox]),
    allowResponses: true,
  };
}

/** Every identity's permissions. */
export function permissionTable(sources: PermissionSources = CONTRACTS): Record<NatsIdentity, NatsPermissions> {
  return Object.fromEntries(NATS_IDENTITIES.map((identity) => [identity, natsPermissions(identity, sources)])) as Record<
    NatsIdentity,
    NatsPermissions
  >;
}

/**
 * The `permissions` block of a nats-server user. An empty allow list would mean "everything"
 * to nats-server, so "nothing" is written as a deny of `>`.
 */
export function natsServerPermissions(permissions: NatsPermissions): Record<string, unknown> {
  return {
    publish: permissions.publish.length === 0 ? { deny: ['>'] } : { allow: permissions.publish },
    subscribe: permissions.subscribe.length === 0 ? { deny: ['>'] } : { allow: permissions.subscribe },
    ...(permissions.allowResponses ? { allow_responses: true } : {}),
  };
}
