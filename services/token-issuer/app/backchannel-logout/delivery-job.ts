import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { BackchannelLogoutEvent } from '../../../../contracts/events/backchannel-logout.js';
import type { RequestContext } from '../../../../contracts/events/metadata.js';
import { GetClient } from '../../../../contracts/messages/client-registry.js';
import { streams } from '../../../../contracts/streams.js';
import type { TenantId } from '../../../../contracts/tenant.js';
import type { Bus } from '../../../../infra/bus/port.js';
import { call } from '../../../../infra/bus/typed.js';
import type { EventStore } from '../../../../infra/event-store/port.js';
import { backoffMs, pause } from '../../../../infra/followers/follower.js';
import { handleCommand, loadState } from '../../../shared/app/command-handler.js';
import { backchannelLogoutDecider, type BackchannelLogoutCommand } from '../../domain/backchannel-logout/backchannel-logout.js';
import type { Keyring } from '../keyring.js';
import { postLogoutToken } from './deliver.js';
import { signLogoutToken } from './logout-token.js';

/** How deliveries are retried (IDP_BACKCHANNEL_LOGOUT_*). */
export interface BackchannelLogoutPolicy {
  /** Attempts per client and session before it is abandoned. */
  maxAttempts: number;
  /** Wait after the first failure; doubles after each further one. */
  backoffMs: number;
  /** Deadline of one POST. */
  timeoutMs: number;
}

export const DEFAULT_BACKCHANNEL_LOGOUT_POLICY: BackchannelLogoutPolicy = { maxAttempts: 6, backoffMs: 5_000, timeoutMs: 5_000 };

export interface DeliveryDeps {
  store: EventStore;
  bus: Bus;
  keyring: Keyring;
  issuer: string;
  tenant: TenantId;
  policy: BackchannelLogoutPolicy;
  requestTimeoutMs: number;
  logger: Logger;
  clock: () => Date;
}

export interface Delivery {
  sessionId: string;
  sub: string;
  clientId: string;
  /** The session.ended event this delivery follows from (the causation of its events). */
  causationId: string | null;
}

/**
 * Delivers one back-channel logout until it is delivered or abandoned, however many senders run:
 * each attempt is claimed on the delivery's stream (an append at its expected version) before
 * the POST, its outcome appended after. The stream is read again before every step, so a sender
 * that restarts, or one that lost a claim to another replica, carries on from what the log says.
 */
export async function runDelivery(deps: DeliveryDeps, delivery: Delivery, stopped: AbortSignal): Promise<'finished' | 'stopped'> {
  const stream = streams.backchannelLogout(deps.tenant, delivery.sessionId, delivery.clientId);
  const ctx: RequestContext = {
    tenant: deps.tenant,
    correlationId: randomUUID(),
    causationId: delivery.causationId,
    actor: { kind: 'system', id: 'token-issuer' },
  };
  const id = { sessionId: delivery.sessionId, clientId: delivery.clientId };
  const decide = (command: BackchannelLogoutCommand) =>
    handleCommand({ store: deps.store, service: 'token-issuer', clock: deps.clock }, { streamName: stream, decider: backchannelLogoutDecider, schema: BackchannelLogoutEvent, command, ctx });
  let failures = 0;
  while (!stopped.aborted) {
    try {
      const state = await loadState(deps.store, stream, backchannelLogoutDecider, BackchannelLogoutEvent);
      if (state.status !== 'pending') return 'finished';
      const { client } = await call(deps.bus, GetClient, { ctx, clientId: delivery.clientId }, { timeoutMs: deps.requestTimeoutMs });
      if (!client || !client.backchannelLogoutUri) {
        // A client that never registered one took part like any other: nothing to deliver, nothing to record.
        if (state.attempts === 0) return 'finished';
        // It had one when delivery began: record why it stops.
        await decide({ type: 'abandon', ...id, reason: client ? 'no_backchannel_logout_uri' : 'client_gone' });
        continue;
      }
      const now = deps.clock();
      const claimExpiresAt = new Date(now.getTime() + deps.policy.timeoutMs + 5_000).toISOString();
      const claim = await decide({
        type: 'claim_attempt',
        ...id,
        now: now.toISOString(),
        uri: client.backchannelLogoutUri,
        claimExpiresAt,
        maxAttempts: deps.policy.maxAttempts,
      });
      const started = claim.appended.find((e) => e.type === 'backchannel_logout.attempt_started');
      if (started) {
        const attempt = (started.data as { attempt: number }).attempt;
        const token = await signLogoutToken(deps, ctx, { clientId: delivery.clientId, sub: delivery.sub, sessionId: delivery.sessionId, now });
        const outcome = await postLogoutToken(client.backchannelLogoutUri, token, deps.policy.timeoutMs, stopped);
        // Stopped mid-POST: the outcome is unknown; the claim runs out and the next start retries.
        if (stopped.aborted) return 'stopped';
        const done = deps.clock();
        await decide({
          type: 'record_outcome',
          ...id,
          attempt,
          outcome,
          nextAttemptAt: new Date(done.getTime() + backoffMs(attempt, deps.policy.backoffMs, Number.MAX_SAFE_INTEGER)).toISOString(),
          maxAttempts: deps.policy.maxAttempts,
        });
        deps.logger.info({ ...id, attempt, ...outcome }, 'back-channel logout attempt');
        failures = 0;
        continue;
      }
      if (claim.appended.length > 0) continue; // abandoned: the next read ends the loop
      // Not due yet, or another sender holds the attempt: wait for its time.
      const after = claim.state;
      if (after.status !== 'pending') return 'finished';
      const until = after.inFlight ? Date.parse(after.inFlight.claimExpiresAt) : Date.parse(after.nextAttemptAt ?? now.toISOString());
      await pause(Math.min(60_000, Math.max(50, until - now.getTime())), stopped);
    } catch (error) {
      // The store or a service is down: the delivery is not lost, only later.
      failures++;
      deps.logger.warn({ ...id, err: error }, 'back-channel logout delivery step failed; retrying');
      await pause(backoffMs(failures, 200, 10_000), stopped);
    }
  }
  return 'stopped';
}
