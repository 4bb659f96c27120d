/**
 * Publishing one append to the JetStream log so that an append that was stored is reported as
 * stored, also when its acknowledgement was lost (issue 7). Otherwise a lost acknowledgement
 * becomes an error, the client retries the request, and the retry of a code redemption that did
 * happen looks like a replay and revokes the grant.
 *
 * Every send of one append carries the same `Nats-Msg-Id` (made from the append's first event id,
 * see `appendMsgId`) and the same `Nats-Expected-Last-Subject-Sequence`. A send whose outcome is
 * unknown (timeout, lost connection, no responders; see `outcomeUnknown`) is sent again, within
 * `PublishPolicy`. The expectation makes a second copy impossible; what the server answers to the
 * resend depends on its version and topology (nats-server, server/stream.go `processJetStreamMsg`
 * and server/jetstream_cluster.go `processClusteredInboundMsg`):
 * - the msg id is checked first by a single server up to 2.11 and by the leader of a clustered
 *   stream from 2.11 on: within the duplicate window (2 min by default) the resend is acknowledged
 *   with `duplicate: true` and the sequence of the stored copy;
 * - the expectation is checked first by a single server from 2.12 on, and by a 2.9 or 2.10
 *   cluster's leader before it proposes (2.9 to 2.10.18 for sequences above 0, 2.10.19+ for 0
 *   too): the resend is refused with "wrong last sequence: <the stored copy's sequence>". Past the
 *   duplicate window every version answers so;
 * - while the first copy is still being applied in a cluster, 2.10 answers a duplicate with
 *   sequence 0, and 2.11+ refuse with 10158 "duplicate message id is in process" or 10164 "wrong
 *   last sequence" (no sequence: the subject has a write in flight). Then the store asks again.
 * So a duplicate is confirmed by reading the message it names, and after an unknown outcome a
 * "wrong last sequence: N" is checked: the subject's first message after the expected sequence is
 * ours if it carries our `Nats-Msg-Id` (the server stores the header with the message). Only a
 * message that carries it is ever reported as stored; anything else is a conflict.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { errors, type MsgHdrs } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager, type MsgRequest, type StoredMsg } from '@nats-io/jetstream';
import type { JetStreamAcks } from '../bus/jetstream-acks.js';
import type { Logger } from '../log/logger.js';
import { EventStoreUnavailableError, type NewEvent } from './port.js';
import { eventIdOf } from './event-id.js';
import { ConnectionDroppedError, type ConnectionState } from './nats-connection-state.js';

const MSG_ID_HEADER = 'Nats-Msg-Id';

/** How hard one append tries to learn its outcome. */
export interface PublishPolicy {
  /** Sends at most, the first included. */
  attempts: number;
  /** How long one send waits for its acknowledgement. */
  attemptTimeoutMs: number;
  /** No send starts later than this after the first (a send then still has its own timeout). */
  deadlineMs: number;
}

/**
 * At most deadline + one send's timeout (4.5 s) to learn the outcome: shorter than the gateway's
 * bus timeout (IDP_REQUEST_TIMEOUT_MS, 5 s by default), so an append is never stored after the
 * client was told it failed (its retry would then look like a replay and revoke the grant).
 * Keep IDP_REQUEST_TIMEOUT_MS above it.
 */
export const DEFAULT_PUBLISH_POLICY: PublishPolicy = { attempts: 6, attemptTimeoutMs: 1_500, deadlineMs: 3_000 };

/** One append as sent, the same on every send. */
export interface AppendMessage {
  subject: string;
  text: string;
  /** The store's own headers; the publish adds the msg id and the expectation. */
  headers: MsgHdrs;
  msgId: string;
  /** The subject's last sequence this append goes after (0: the subject has no message). */
  expectedLastSeq: number;
  /** For messages. */
  streamName: string;
}

/** A message of the log as the store decodes it, whether from a publish, a direct get or a consumer. */
export interface LogMessage {
  seq: number;
  subject: string;
  headers: MsgHdrs | undefined;
  text: string;
}

export type PublishOutcome =
  | { kind: 'stored'; message: LogMessage }
  /** Not stored, and never will be: the subject's last message is `actualSeq` (0: none). */
  | { kind: 'conflict'; actualSeq: number };

/** No send of an append was answered: it may or may not be stored. */
export class AppendOutcomeUnknownError extends EventStoreUnavailableError {
  override readonly name = 'AppendOutcomeUnknownError';
}

/**
 * The append's `Nats-Msg-Id`: its first event's id (a UUIDv7 from the command handler) when there
 * is one, else a random UUID. Made once per append call and reused by all its sends.
 */
export function appendMsgId(events: readonly NewEvent[]): string {
  return eventIdOf(events[0]?.metadata) ?? randomUUID();
}

/** Whether a stored message is the one this append sent: same subject, same `Nats-Msg-Id`. */
export function isOurs(stored: Pick<LogMessage, 'subject' | 'headers'> | null, message: Pick<AppendMessage, 'subject' | 'msgId'>): boolean {
  return stored !== null && stored.subject === message.subject && stored.headers?.get(MSG_ID_HEADER) === message.msgId;
}

/**
 * Whether a failed send (or look-up) may have been stored, and so is sent again. An answer from
 * the JetStream API (an error code in the reply) is definite, and so is a refusal before anything
 * left the client (bad argument, payload over max_payload) or by the server's permissions. Anything
 * else (timeout, lost connection, no responders) is not.
 */
export function outcomeUnknown(error: unknown): boolean {
  return !(
    error instanceof JetStreamApiError ||
    error instanceof errors.InvalidArgumentError ||
    error instanceof errors.InvalidSubjectError ||
    error instanceof errors.InvalidOperationError ||
    error instanceof errors.PermissionViolationError
  );
}

/** nats-server's error codes (server/errors.json, 2.11+) for a write to the subject still in flight. */
const DUPLICATE_IN_PROCESS = 10158;
const WRONG_LAST_SEQUENCE_IN_FLIGHT = 10164;
/** "Temporarily unavailable": the leader refused before storing (e.g. not caught up yet). */
const STREAM_TEMPORARILY_UNAVAILABLE = 10163;

/** Whether the server refused a send because a write to the subject (perhaps ours) is still being applied. */
export function writeInFlight(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === DUPLICATE_IN_PROCESS || error.code === WRONG_LAST_SEQUENCE_IN_FLIGHT || error.code === STREAM_TEMPORARILY_UNAVAILABLE)
  );
}

/** The subject's actual last sequence from a refused expectation ("wrong last sequence: 7"), else undefined. */
export function wrongLastSequence(error: unknown): number | undefined {
  if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence)) return undefined;
  const match = /(\d+)\s*$/.exec(error.message);
  return match ? Number(match[1]) : undefined;
}

export class AppendPublisher {
  constructor(
    private readonly acks: JetStreamAcks,
    private readonly jsm: JetStreamManager,
    private readonly connection: ConnectionState,
    private readonly logStream: string,
    private readonly policy: PublishPolicy,
    private readonly log: Logger,
  ) {}

  /** Fails the sends still waiting for an acknowledgement: the store is closed. */
  close(): void {
    this.acks.close(new EventStoreUnavailableError('the event store is closed'));
  }

  /** Sends `message` until its outcome is known; see the file comment. */
  async publish(message: AppendMessage): Promise<PublishOutcome> {
    const deadline = Date.now() + this.policy.deadlineMs;
    /** Some earlier send may have been stored. */
    let unsure = false;
    let lastFailure: unknown;
    for (let attempt = 1; attempt <= this.policy.attempts; attempt++) {
      if (attempt > 1 && Date.now() >= deadline) break;
      // Sent while disconnected, a message is dropped when the client dials again: wait.
      if (!(await this.connection.whenConnected(deadline))) break;
      try {
        const outcome = await this.send(message, unsure, attempt);
        if (outcome.kind !== 'again') return outcome;
        lastFailure = new Error(`JetStream is still applying a write to the subject (${outcome.reason})`);
        await sleep(Math.min(100 * 2 ** (attempt - 1), 1_000));
      } catch (error) {
        if (!outcomeUnknown(error) || this.connection.closed) throw error;
        lastFailure = error;
        // A send that failed at once (no responders during a leader election) waits a little.
        if (!(error instanceof ConnectionDroppedError)) await sleep(Math.min(100 * 2 ** (attempt - 1), 1_000));
      }
      unsure = true;
    }
    if (!unsure) {
      throw new EventStoreUnavailableError(`append to ${message.streamName} not sent: no connection to NATS within ${this.policy.deadlineMs} ms`);
    }
    throw new AppendOutcomeUnknownError(
      `append to ${message.streamName}: no answer from JetStream within ${this.policy.attempts} sends / ${this.policy.deadlineMs} ms; ` +
        `it may or may not be stored (Nats-Msg-Id ${message.msgId})`,
      { cause: lastFailure },
    );
  }

  /**
   * One send, and what its answer means: 'again' when the server cannot tell yet. Throws what it
   * cannot answer for (a failure of the send or of a look-up, or an error answer of another kind).
   */
  private async send(
    message: AppendMessage,
    unsure: boolean,
    attempt: number,
  ): Promise<PublishOutcome | { kind: 'again'; reason: string }> {
    let ack: { seq: number; duplicate: boolean };
    try {
      ack = await this.connection.unlessDropped(
        this.acks.publish(message.subject, message.text, {
          headers: message.headers,
          msgID: message.msgId,
          expect: { lastSubjectSequence: message.expectedLastSeq },
          timeoutMs: this.policy.attemptTimeoutMs,
        }),
      );
    } catch (error) {
      if (writeInFlight(error)) return { kind: 'again', reason: (error as Error).message };
      const actualSeq = wrongLastSequence(error);
      if (actualSeq === undefined) throw error;
      if (unsure) {
        const ours = await this.findOurs(message);
        if (ours !== null) return this.recovered(message, ours, attempt, 'wrong last sequence, message found');
      }
      return { kind: 'conflict', actualSeq };
    }
    if (!ack.duplicate) {
      return { kind: 'stored', message: { seq: ack.seq, subject: message.subject, headers: message.headers, text: message.text } };
    }
    // The server holds a message with our msg id. Read it rather than trust the sequence.
    const ours = ack.seq > 0 ? await this.messageAt(ack.seq) : await this.findOurs(message);
    if (isOurs(ours, message)) return this.recovered(message, ours!, attempt, 'duplicate');
    if (ack.seq > 0) {
      throw new Error(`JetStream answered ${message.streamName}'s append as a duplicate of message ${ack.seq}, which is not ours`);
    }
    // Sequence 0: a 2.10 cluster still applies the first copy; ask again.
    return { kind: 'again', reason: 'duplicate acknowledged with sequence 0' };
  }

  private recovered(message: AppendMessage, stored: LogMessage, attempt: number, via: string): PublishOutcome {
    this.log.warn(
      { stream: message.streamName, seq: stored.seq, msgId: message.msgId, attempt, via },
      'append was stored but its acknowledgement was lost; reporting the stored copy',
    );
    return { kind: 'stored', message: stored };
  }

  /** The subject's first message after the expected sequence, if it is ours: where our append would be. */
  private async findOurs(message: AppendMessage): Promise<LogMessage | null> {
    // STREAM.MSG.GET with `seq` and `next_by_subj` (nats-server 2.9+); the client's type omits it.
    const query: { seq: number; next_by_subj: string } = { seq: message.expectedLastSeq + 1, next_by_subj: message.subject };
    const stored = await this.connection.unlessDropped(this.jsm.streams.getMessage(this.logStream, query as MsgRequest));
    const found = stored === null ? null : fromStored(stored);
    return isOurs(found, message) ? found : null;
  }

  private async messageAt(seq: number): Promise<LogMessage | null> {
    const stored = await this.connection.unlessDropped(this.jsm.streams.getMessage(this.logStream, { seq }));
    return stored === null ? null : fromStored(stored);
  }
}

function fromStored(stored: StoredMsg): LogMessage {
  return { seq: stored.seq, subject: stored.subject, headers: stored.header, text: stored.string() };
}
