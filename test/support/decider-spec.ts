import { DomainEvent } from '../../contracts/events/index.js';
import { OAuthError, type OAuthErrorCode } from '../../contracts/oauth-error.js';
import type { Decider, Decision } from '../../services/shared/domain/decider.js';

/** What a refusal must look like; `error` undefined means "no refusal at all". */
export interface ThenExpectation {
  /** The OAuth error code of the rejection (RFC 6749 §5.2, RFC 7591 §3.2.2, ...). */
  error?: OAuthErrorCode;
  /** HTTP status the gateway will answer with; checked only when given. */
  status?: number;
  /** Whether the error may go to the redirect URI; checked only when given. */
  mayRedirect?: boolean;
}

/**
 * Every event a decider emits, and every event a test says happened, must be exactly what the
 * contract keeps: it parses with `DomainEvent`, and parsing strips nothing (no stray keys that
 * would reach the log unchecked).
 */
function expectContractEvents(events: readonly unknown[], role: 'given' | 'emitted'): void {
  events.forEach((event, index) => {
    const parsed = DomainEvent.safeParse(event);
    if (!parsed.success) {
      const type = (event as { type?: unknown } | null)?.type;
      throw new Error(
        `${role} event #${index} (${String(type)}) violates the contract in contracts/events:\n` +
          JSON.stringify(parsed.error.issues, null, 2),
      );
    }
    expect(parsed.data).toEqual(event);
  });
}

/**
 * given / when / then for a pure decider, in the spirit of emmett's DeciderSpecification:
 * past events are folded with `evolve` from `initialState`, the command is decided on that state,
 * and the decision (events *and* optional rejection, DESIGN §4) is compared exactly.
 */
export function spec<S, C, E>(decider: Decider<S, C, E>) {
  return {
    given(events: E[]) {
      return {
        when(command: C) {
          const givenState = (): S => {
            expectContractEvents(events, 'given');
            return events.reduce((s, e) => decider.evolve(s, e), decider.initialState());
          };
          const decide = (): Decision<E> => {
            const decision = decider.decide(command, givenState());
            expectContractEvents(decision.events, 'emitted');
            // What was decided must also fold: evolve accepts every event decide can emit.
            decision.events.reduce((s, e) => decider.evolve(s, e), givenState());
            return decision;
          };
          return {
            /** Exactly these events; a rejection with `expected.error`, or none if it is undefined. */
            then(expectedEvents: E[], expected: ThenExpectation = {}): void {
              const decision = decide();
              expect(decision.events).toEqual(expectedEvents);
              if (expected.error === undefined) {
                expect(decision.rejection).toBeUndefined();
                return;
              }
              expect(decision.rejection).toBeInstanceOf(OAuthError);
              expect(decision.rejection?.code).toBe(expected.error);
              if (expected.status !== undefined) expect(decision.rejection?.status).toBe(expected.status);
              if (expected.mayRedirect !== undefined) {
                expect(decision.rejection?.mayRedirect).toBe(expected.mayRedirect);
              }
            },
            /** No events, no rejection: an idempotent no-op. */
            thenNothing(): void {
              const decision = decide();
              expect(decision.events).toEqual([]);
              expect(decision.rejection).toBeUndefined();
            },
            /**
             * The command is a programming error (an invariant the caller must keep), so decide
             * throws. An OAuth refusal is never thrown: it is returned, so it can be recorded too.
             */
            thenThrows(message?: string | RegExp): void {
              const state = givenState();
              let thrown: unknown;
              try {
                decider.decide(command, state);
              } catch (error) {
                thrown = error;
              }
              expect(thrown).toBeInstanceOf(Error);
              expect(thrown).not.toBeInstanceOf(OAuthError);
              if (message !== undefined) expect((thrown as Error).message).toMatch(message);
            },
          };
        },
      };
    },
  };
}
