import { errors, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, PubHeaders, type ApiError } from '@nats-io/jetstream';
import { ReplyInbox, type Waiting } from './reply-inbox.js';

/** What JetStream answered to a stored (or deduplicated) publish. */
export interface JetStreamAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

export interface AckedPublishOptions {
  /** Sent as they are, with the headers below added to them. */
  headers: MsgHdrs;
  /** `Nats-Msg-Id`: JetStream's deduplication. */
  msgID: string;
  /** `Nats-Expected-Last-Sequence` (the stream) or `Nats-Expected-Last-Subject-Sequence` (the subject). */
  expect: { lastSequence: number } | { lastSubjectSequence: number };
  /** How long to wait for the acknowledgement. */
  timeoutMs: number;
}

/**
 * JetStream publishes whose acknowledgements all arrive on one subscription (issue 12).
 *
 * nats.js' `js.publish` is a request: per publish a request object, a timer wrapped in a promise,
 * and on settling an `Error` built for a cancellation that nobody sees (`RequestOne.cancel`). For
 * the log's appends and the relay's publishes that was 2-4 % of a distributed service's CPU. Here,
 * as for the bus's requests, one wildcard inbox takes every acknowledgement (reply-inbox.ts), each
 * publish has its own reply subject under it, and the acknowledgement is read as nats.js reads it:
 * - an error in the answer is a JetStreamApiError with the server's code (wrong last sequence,
 *   ...), a definite refusal;
 * - the server's "no responders" status is `errors.NoRespondersError`, no answer in time
 *   `errors.TimeoutError`: the publish may or may not be stored.
 */
export class JetStreamAcks {
  private readonly inbox: ReplyInbox<JetStreamAck>;

  constructor(
    private readonly connection: NatsConnection,
    inboxPrefix: string | undefined,
  ) {
    this.inbox = new ReplyInbox(connection, inboxPrefix, (msg, token, waiting) => this.onAck(msg, token, waiting));
  }

  publish(subject: string, data: string, options: AckedPublishOptions): Promise<JetStreamAck> {
    const { headers } = options;
    headers.set(PubHeaders.MsgIdHdr, options.msgID);
    if ('lastSequence' in options.expect) headers.set(PubHeaders.ExpectedLastSeqHdr, String(options.expect.lastSequence));
    else headers.set(PubHeaders.ExpectedLastSubjectSequenceHdr, String(options.expect.lastSubjectSequence));
    return this.inbox.request(
      subject,
      options.timeoutMs,
      () => new errors.TimeoutError(),
      (reply) => this.connection.publish(subject, data, { reply, headers }),
    );
  }

  /** Fails every publish still waiting for its acknowledgement. */
  failAll(error: unknown): void {
    this.inbox.failAll(error);
  }

  /** Stops taking acknowledgements; the publishes still waiting fail with `error`. */
  close(error: unknown): void {
    this.inbox.close(error);
  }

  /** Every acknowledgement settles its publish: there is only one per publish. */
  private onAck(msg: Msg, token: string, request: Waiting<JetStreamAck>): void {
    this.inbox.settle(token);
    if (msg.data.length === 0) {
      const status = msg.headers?.code;
      request.reject(status === 503 ? new errors.NoRespondersError(request.subject) : new Error(`empty JetStream acknowledgement (status ${status})`));
      return;
    }
    let answer: { stream?: unknown; seq?: unknown; duplicate?: unknown; error?: ApiError };
    try {
      answer = msg.json();
    } catch {
      request.reject(new Error(`undecodable JetStream acknowledgement for ${request.subject}`));
      return;
    }
    if (answer.error) {
      request.reject(new JetStreamApiError(answer.error));
      return;
    }
    if (typeof answer.stream !== 'string' || answer.stream === '' || typeof answer.seq !== 'number') {
      request.reject(new Error(`invalid JetStream acknowledgement for ${request.subject}`));
      return;
    }
    request.resolve({ stream: answer.stream, seq: answer.seq, duplicate: answer.duplicate === true });
  }
}
