import { JETSTREAM_NAMES } from '../bus/jetstream-names.js';

/**
 * Subjects of the JetStream log: `<prefix>.<aggregate>.<token>` (default prefix `idp.log`), where
 * `<aggregate>` is the stream name's aggregate prefix (`grant`, `refresh_token`, …: the part before
 * its first '-', contracts/streams.ts) and `<token>` the whole stream name percent-encoded (every
 * byte outside [A-Za-z0-9_-] becomes `%XX`, so the token never holds '.', '*', '>' or whitespace,
 * the characters NATS gives meaning to in subjects, and `decodeURIComponent` gives the name back).
 * `grant-default-42` is `idp.log.grant.grant-default-42`.
 *
 * The aggregate token exists for the bus permissions (infra/bus/permissions.ts): the one service
 * that owns an aggregate (STREAM_OWNERS) may publish on `idp.log.<aggregate>.>`, and nobody else,
 * so the NATS server itself refuses an event written on another service's streams. A stream name
 * without an aggregate prefix (`[a-z_]+` before a '-') goes under `_`, which no service may write.
 *
 * The scheme before this one was `<prefix>.<token>` (one token): `oldSchemeFilter` finds such
 * subjects so that a log written with it is refused at start (jetstream.ts), not half read.
 */
export const DEFAULT_LOG_SUBJECT_PREFIX: string = JETSTREAM_NAMES.logSubjectPrefix;

/** The aggregate token of a stream name with no aggregate prefix. */
export const UNCLASSIFIED_AGGREGATE = '_';

export function aggregatePrefixOf(streamName: string): string {
  return /^([a-z_]+)-/.exec(streamName)?.[1] ?? UNCLASSIFIED_AGGREGATE;
}

export function logSubject(subjectPrefix: string, streamName: string): string {
  return `${subjectPrefix}.${aggregatePrefixOf(streamName)}.${encodeToken(streamName)}`;
}

/** The stream name of a log subject (the inverse of logSubject). */
export function streamNameOfSubject(subject: string): string {
  return decodeURIComponent(subject.slice(subject.lastIndexOf('.') + 1));
}

/** Every subject of one aggregate's streams: what its owner may publish on. */
export function aggregateSubjects(subjectPrefix: string, aggregatePrefix: string): string {
  return `${subjectPrefix}.${aggregatePrefix}.>`;
}

/** The subjects of the previous scheme, `<prefix>.<token>`: exactly one token after the prefix. */
export function oldSchemeFilter(subjectPrefix: string): string {
  return `${subjectPrefix}.*`;
}

/** Percent-encodes every byte outside [A-Za-z0-9_-]; `decodeURIComponent` is the inverse. */
function encodeToken(name: string): string {
  return encodeURIComponent(name).replace(/[.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
