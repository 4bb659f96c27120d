import { randomUUID } from 'node:crypto';
import type { BackchannelLogoutEvent } from '../../contracts/events/backchannel-logout.js';
import { backchannelLogoutDecider, type BackchannelLogoutCommand } from '../../services/token-issuer/domain/backchannel-logout/backchannel-logout.js';
import { spec } from '../support/decider-spec.js';

/**
 * One back-channel logout delivery (Back-Channel Logout 1.0 §2.5): attempts claimed before the
 * POST so that one sender makes each, retried until delivered or the attempts run out.
 */
const { given } = spec(backchannelLogoutDecider);
const id = { sessionId: randomUUID(), clientId: 'rp-1' };
const URI = 'https://rp.example.test/bc';
const T0 = '2026-05-01T10:00:00.000Z';
const T0_PLUS = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/** A claim at `now` that holds for 10 s. */
const claim = (now: string, maxAttempts = 3): BackchannelLogoutCommand => ({
  type: 'claim_attempt',
  ...id,
  now,
  uri: URI,
  claimExpiresAt: new Date(Date.parse(now) + 10_000).toISOString(),
  maxAttempts,
});
const started = (attempt: number, claimExpiresAt: string): BackchannelLogoutEvent => ({
  type: 'backchannel_logout.attempt_started',
  schemaVersion: 1,
  data: { ...id, attempt, uri: URI, claimExpiresAt },
});
const failed = (attempt: number, nextAttemptAt: string | null): BackchannelLogoutEvent => ({
  type: 'backchannel_logout.failed',
  schemaVersion: 1,
  data: { ...id, attempt, status: 500, error: null, nextAttemptAt },
});
const outcome = (attempt: number, delivered: boolean, maxAttempts = 3): BackchannelLogoutCommand => ({
  type: 'record_outcome',
  ...id,
  attempt,
  outcome: delivered ? { delivered: true, status: 200 } : { delivered: false, status: 500, error: null },
  nextAttemptAt: T0_PLUS(60),
  maxAttempts,
});

describe('back-channel logout delivery decider', () => {
  test('the first claim starts attempt 1', () => {
    given([]).when(claim(T0)).then([started(1, T0_PLUS(10))]);
  });

  test('while an attempt is held and its claim runs, nobody else starts one (two senders: one POSTs)', () => {
    given([started(1, T0_PLUS(10))]).when(claim(T0_PLUS(5))).thenNothing();
  });

  test('a claim whose holder went silent expires: the next attempt starts, the lost one counted', () => {
    given([started(1, T0_PLUS(10))]).when(claim(T0_PLUS(11))).then([started(2, T0_PLUS(21))]);
  });

  test('a 2xx is delivered; a failure waits for its backoff, then the next attempt', () => {
    given([started(1, T0_PLUS(10))]).when(outcome(1, true)).then([{ type: 'backchannel_logout.delivered', schemaVersion: 1, data: { ...id, attempt: 1, status: 200 } }]);
    given([started(1, T0_PLUS(10))]).when(outcome(1, false)).then([failed(1, T0_PLUS(60))]);
    given([started(1, T0_PLUS(10)), failed(1, T0_PLUS(60))]).when(claim(T0_PLUS(30))).thenNothing();
    given([started(1, T0_PLUS(10)), failed(1, T0_PLUS(60))]).when(claim(T0_PLUS(60))).then([started(2, T0_PLUS(70))]);
  });

  test('the last attempt failing abandons the delivery in the same append; nothing is tried after', () => {
    const history = [started(1, T0_PLUS(10)), failed(1, T0_PLUS(20)), started(2, T0_PLUS(30)), failed(2, T0_PLUS(40)), started(3, T0_PLUS(50))];
    given(history).when(outcome(3, false)).then([
      failed(3, null),
      { type: 'backchannel_logout.abandoned', schemaVersion: 1, data: { ...id, attempts: 3, reason: 'attempts_exhausted' } },
    ]);
    const abandoned: BackchannelLogoutEvent = { type: 'backchannel_logout.abandoned', schemaVersion: 1, data: { ...id, attempts: 3, reason: 'attempts_exhausted' } };
    given([...history, failed(3, null), abandoned]).when(claim(T0_PLUS(100))).thenNothing();
  });

  test('attempts lost to silent holders run out too', () => {
    given([started(1, T0_PLUS(10)), started(2, T0_PLUS(20)), started(3, T0_PLUS(30))]).when(claim(T0_PLUS(31))).then([
      { type: 'backchannel_logout.abandoned', schemaVersion: 1, data: { ...id, attempts: 3, reason: 'attempts_exhausted' } },
    ]);
  });

  test('an outcome for an attempt that is not the one held (a sender that lost its claim) records nothing', () => {
    given([started(1, T0_PLUS(10)), started(2, T0_PLUS(30))]).when(outcome(1, true)).thenNothing();
  });

  test('delivered is final: no further attempt, outcome or abandonment', () => {
    const delivered: BackchannelLogoutEvent = { type: 'backchannel_logout.delivered', schemaVersion: 1, data: { ...id, attempt: 1, status: 204 } };
    given([started(1, T0_PLUS(10)), delivered]).when(claim(T0_PLUS(100))).thenNothing();
    given([started(1, T0_PLUS(10)), delivered]).when({ type: 'abandon', ...id, reason: 'client_gone' }).thenNothing();
  });

  test('a client gone or without its URI any more abandons the delivery', () => {
    given([started(1, T0_PLUS(10)), failed(1, T0_PLUS(20))]).when({ type: 'abandon', ...id, reason: 'client_gone' }).then([
      { type: 'backchannel_logout.abandoned', schemaVersion: 1, data: { ...id, attempts: 1, reason: 'client_gone' } },
    ]);
  });
});
